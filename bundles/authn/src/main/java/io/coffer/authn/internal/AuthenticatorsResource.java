package io.coffer.authn.internal;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.MediaType;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import io.coffer.api.authn.Authenticator;
import io.coffer.api.store.Changes;
import io.coffer.api.store.Database;

/**
 * {@code GET /authenticators} (no auth), as Conjur computes it: {@code installed} = the authenticators present on
 * this node; {@code configured} = {@code authn} plus every {@code conjur/authn-<type>/<service_id>} webservice in
 * policy (as {@code authn-<type>/<service_id>}); {@code enabled} = the {@code authenticators} key of
 * {@code io.coffer.authn} (Conjur's {@code CONJUR_AUTHENTICATORS}) united with the services enabled in the database.
 * The database part is kept until the data changes, so polling this open route costs no query.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true", configurationPid = ApiKeyAuthenticator.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Path("/authenticators")
public class AuthenticatorsResource {
    private static final String WEBSERVICES = "SELECT identifier FROM resources WHERE kind = 'webservice' "
            + "AND identifier ~ '^conjur/authn-[^/]+/[^/]+$' ORDER BY identifier";
    private static final String DB_ENABLED = "SELECT r.identifier FROM authenticator_configs a JOIN resources r "
            + "ON r.resource_id = a.resource_id WHERE a.enabled ORDER BY r.identifier";

    /** The {@code authenticators} key of {@code io.coffer.authn}: comma-separated names enabled on this node. */
    public @interface Enabled {
        String authenticators() default "authn";
    }

    /** What the database says, under one change generation. */
    private record FromPolicy(long generation, List<String> configured, List<String> enabled) {
    }

    private final List<Authenticator> authenticators = new CopyOnWriteArrayList<>();
    private volatile List<String> enabledByConfig = List.of("authn");
    private volatile FromPolicy cached;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile Database database;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile Changes changes;

    @Activate
    @Modified
    void configure(Enabled config) {
        List<String> names = new ArrayList<>();
        for (String name : config.authenticators().split(",")) {
            if (!name.isBlank() && !names.contains(name.trim())) {
                names.add(name.trim());
            }
        }
        enabledByConfig = List.copyOf(names);
    }

    @Reference(name = "authenticator", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void add(Authenticator a) {
        authenticators.add(a);
    }

    void remove(Authenticator a) {
        authenticators.remove(a);
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> list() throws SQLException {
        TreeSet<String> installed = new TreeSet<>();
        authenticators.forEach(a -> installed.add(a.name()));
        FromPolicy policy = fromPolicy();
        Set<String> configured = new LinkedHashSet<>(List.of("authn"));
        configured.addAll(policy.configured);
        Set<String> enabled = new LinkedHashSet<>(enabledByConfig);
        enabled.addAll(policy.enabled);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("installed", installed);
        out.put("configured", configured);
        out.put("enabled", enabled);
        return out;
    }

    private FromPolicy fromPolicy() throws SQLException {
        Database db = database;
        Changes ch = changes;
        if (db == null || ch == null) {
            return new FromPolicy(-1, List.of(), List.of());
        }
        long gen = ch.generation();
        FromPolicy known = cached;
        if (known != null && known.generation == gen) {
            return known;
        }
        FromPolicy fresh;
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            fresh = new FromPolicy(gen, names(st, WEBSERVICES), names(st, DB_ENABLED));
        }
        if (ch.generation() == gen) {
            cached = fresh;
        }
        return fresh;
    }

    /** {@code conjur/authn-jwt/github} → {@code authn-jwt/github}, each once, in id order. */
    private static List<String> names(Statement st, String sql) throws SQLException {
        Set<String> out = new LinkedHashSet<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                String id = rs.getString(1);
                if (id.startsWith("conjur/authn-")) {
                    out.add(id.substring("conjur/".length()));
                }
            }
        }
        return List.copyOf(out);
    }
}
