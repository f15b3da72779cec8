package io.coffer.audit.command;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.apache.karaf.shell.support.table.ShellTable;

import io.coffer.api.audit.AuditSearch;

/**
 * {@code coffer:audit-search [options] ACCOUNT}: the stored audit trail ({@code audit_events}, the Leader's,
 * replicated), with the filters of {@code GET /audit}, newest first, as the account's admin.
 */
@Service
@Command(scope = "coffer", name = "audit-search", description = "Search the stored audit events of an account")
public class AuditSearchCommand implements Action {
    @Reference
    private AuditSearch search;

    @Argument(index = 0, name = "account", required = true, description = "Account")
    String account;

    @Option(name = "--since", description = "From this time (ISO-8601, inclusive)")
    String since;
    @Option(name = "--until", description = "Before this time (ISO-8601, exclusive)")
    String until;
    @Option(name = "--action", description = "Operation, e.g. fetch, authenticate, add")
    String action;
    @Option(name = "--outcome", description = "success or failure")
    @Completion(value = StringsCompleter.class, values = {"success", "failure"})
    String outcome;
    @Option(name = "--msgid", description = "Message id, e.g. fetch, authn, policy")
    String msgid;
    @Option(name = "--request-id", description = "The request id (PROCID)")
    String requestId;
    @Option(name = "--resource", description = "Events about this resource (full id)")
    String resource;
    @Option(name = "--role", description = "Events about or by this role (full id)")
    String role;
    @Option(name = "--entity", description = "Events about this role or resource (full id)")
    String entity;
    @Option(name = "-n", aliases = "--limit", description = "At most this many (default 100, at most 1000)")
    String limit;
    @Option(name = "--offset", description = "Skip this many")
    String offset;

    @Override
    public Object execute() {
        Map<String, List<String>> f = new LinkedHashMap<>();
        put(f, "since", since);
        put(f, "until", until);
        put(f, "action", action);
        put(f, "outcome", outcome);
        put(f, "msgid", msgid);
        put(f, "procid", requestId);
        put(f, "resource", resource);
        put(f, "role", role);
        put(f, "entity", entity);
        put(f, "limit", limit);
        put(f, "offset", offset);
        List<Map<String, Object>> events = search.search(account, f);
        ShellTable t = new ShellTable();
        t.column("Time");
        t.column("Msgid");
        t.column("Result");
        t.column("Client");
        t.column("Message").maxSize(100);
        for (Map<String, Object> e : events) {
            Object sd = e.get("sdata");
            String result = "";
            String ip = "";
            if (sd instanceof Map) {
                Object a = ((Map<?, ?>) sd).get("action@43868");
                Object c = ((Map<?, ?>) sd).get("client@43868");
                result = a instanceof Map ? String.valueOf(((Map<?, ?>) a).get("result")) : "";
                ip = c instanceof Map ? String.valueOf(((Map<?, ?>) c).get("ip")) : "";
            }
            t.addRow().addContent(e.get("timestamp"), e.get("msgid"), result, ip, e.get("message"));
        }
        t.print(System.out);
        System.out.println(events.size() + " event(s)");
        return null;
    }

    private static void put(Map<String, List<String>> f, String name, String value) {
        if (value != null) {
            f.put(name, List.of(value));
        }
    }
}
