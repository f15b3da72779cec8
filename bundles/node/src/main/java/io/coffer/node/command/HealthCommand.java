package io.coffer.node.command;

import java.util.Map;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthReport;
import io.coffer.api.health.HealthService;

/** {@code coffer:health}: the node's health report as a table, the same data as {@code GET /health}. */
@Service
@Command(scope = "coffer", name = "health", description = "Show this node's role and health")
public class HealthCommand implements Action {

    @Reference
    private HealthService health;

    @Override
    public Object execute() {
        HealthReport r = health.report();
        System.out.printf("node %s, role %s, %s, up %ds%n", r.node(), r.role(), r.ok() ? "healthy" : "UNHEALTHY",
                r.uptimeSeconds());
        ShellTable table = new ShellTable();
        table.column("Check");
        table.column("OK");
        table.column("Details");
        for (Map.Entry<String, ComponentHealth> e : r.components().entrySet()) {
            table.addRow().addContent(e.getKey(), e.getValue().ok() ? "yes" : "NO", e.getValue().details());
        }
        table.print(System.out);
        return null;
    }
}
