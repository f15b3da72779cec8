package io.coffer.hostfactory.internal;

import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.authn.Credentials;
import io.coffer.api.store.ChangeLog;
import io.coffer.api.store.Database;
import io.coffer.api.rest.ClientIp;

/**
 * {@code POST /host_factories/hosts} (conjur-api §1.6): a host-factory token (not an access token) enrols a host,
 * owned by the factory and a member of each of its layers. Re-enrolling a host the factory owns rotates its API key.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/host_factories/hosts")
@Produces(MediaType.APPLICATION_JSON)
public class HostsResource {
    private static final Pattern TOKEN = Pattern.compile("^\\s*Token\\s+token=\"([A-Za-z0-9_-]{1,128})\"\\s*$");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSxxx");
    static final int MAX_ID = 512;
    static final int MAX_ANNOTATIONS = 100;

    private final Database db;
    private final Credentials credentials;
    private final ChangeLog changes;

    @Activate
    public HostsResource(@Reference Database db, @Reference Credentials credentials, @Reference ChangeLog changes) {
        this.db = db;
        this.credentials = credentials;
        this.changes = changes;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response create(InputStream body, @Context HttpServletRequest request) throws IOException {
        String header = request.getHeader("Authorization");
        Matcher m = header == null ? null : TOKEN.matcher(header);
        if (m == null || !m.matches()) {
            return Response.status(401).build();
        }
        byte[] hash = TokensResource.sha256(m.group(1));
        Params p;
        try {
            p = Params.parse(request.getQueryString(), body);
        } catch (IllegalArgumentException e) {
            return TokensResource.error(422, "argument_error", "parameters are not valid form encoding");
        } catch (IllegalStateException e) {
            return TokensResource.error(413, "payload_too_large", e.getMessage());
        }
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                // The token first: without a live one from this address, say nothing about the id.
                String hf = factory(c, hash, ClientIp.of(request::getAttribute, request.getRemoteAddr()));
                if (hf == null) {
                    c.rollback();
                    return Response.status(401).build();
                }
                String id = p.first("id");
                String invalid = invalidId(id);
                if (invalid != null) {
                    c.rollback();
                    return TokensResource.error(422, "argument_error", invalid);
                }
                Map<String, String> annotations = p.hash("annotations");
                if (annotations.size() > MAX_ANNOTATIONS) {
                    c.rollback();
                    return TokensResource.error(422, "argument_error", "too many annotations");
                }
                String account = hf.substring(0, hf.indexOf(':'));
                String hostId = account + ":host:" + id;
                String policy = one(c, "SELECT policy_id FROM resources WHERE resource_id = ?", hf);
                String owner = one(c, "SELECT owner_id FROM resources WHERE resource_id = ? FOR UPDATE", hostId);
                String apiKey;
                if (owner == null) {
                    exec(c, "INSERT INTO roles(role_id, account, kind, identifier, policy_id) VALUES (?,?,'host',?,?)",
                            hostId, account, id, policy);
                    exec(c, "INSERT INTO resources(resource_id, account, kind, identifier, owner_id, policy_id) "
                            + "VALUES (?,?,'host',?,?,?)", hostId, account, id, hf, policy);
                    exec(c, "INSERT INTO role_memberships(role_id, member_id, admin_option, ownership, policy_id) "
                            + "VALUES (?,?,true,true,?)", hostId, hf, policy);
                    exec(c, "INSERT INTO role_memberships(role_id, member_id, admin_option, ownership, policy_id) "
                            + "SELECT role_id, ?, false, false, ? FROM role_memberships WHERE member_id = ? AND NOT "
                            + "ownership AND split_part(role_id, ':', 2) = 'layer' ON CONFLICT DO NOTHING",
                            hostId, policy, hf);
                    apiKey = credentials.issue(c, hostId, List.of());
                } else if (owner.equals(hf)) {
                    apiKey = credentials.rotate(c, hostId);
                } else {
                    c.rollback();
                    return TokensResource.error(409, "conflict", "Host '" + id + "' already exists and is not owned "
                            + "by this host factory");
                }
                for (Map.Entry<String, String> a : annotations.entrySet()) {
                    exec(c, "INSERT INTO annotations(resource_id, name, value, policy_id) VALUES (?,?,?,?) "
                            + "ON CONFLICT (resource_id, name) DO UPDATE SET value = EXCLUDED.value",
                            hostId, a.getKey(), a.getValue(), policy);
                }
                changes.append(c, account, owner == null ? "host-factory-host-create" : "host-factory-host-rotate",
                        hostId);
                Map<String, Object> host = show(c, hostId);
                c.commit();
                host.put("api_key", apiKey);
                return Response.status(201).entity(host).build();
            } catch (SQLException e) {
                c.rollback();
                if ("23505".equals(e.getSQLState())) {
                    // Another enrolment of the same id won the race; the client may retry and get a rotation.
                    return TokensResource.error(409, "conflict", "host is being created concurrently");
                }
                throw e;
            } catch (RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("host factory unavailable: " + e.getSQLState(), e);
        }
    }

    /** The host factory a live token from {@code clientIp} belongs to, or {@code null}. */
    private static String factory(Connection c, byte[] hash, String clientIp) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT resource_id FROM host_factory_tokens WHERE "
                + "token_sha256 = ? AND expiration > now() AND (cardinality(cidr) = 0 OR ?::inet <<= ANY (cidr))")) {
            ps.setBytes(1, hash);
            ps.setString(2, clientIp);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** @return why {@code id} can't name a host, or {@code null} when it can */
    static String invalidId(String id) {
        if (id == null || id.isBlank()) {
            return "param is missing or the value is empty: id";
        }
        if (id.length() > MAX_ID || id.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
            return "id is not a valid host id";
        }
        if (id.startsWith("conjur/") || id.startsWith("/") || id.endsWith("/") || id.contains("//")) {
            return "id '" + id + "' is not allowed";
        }
        return null;
    }

    private static Map<String, Object> show(Connection c, String hostId) throws SQLException {
        Map<String, Object> out = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT created_at, owner_id, policy_id FROM resources WHERE resource_id = ?")) {
            ps.setString(1, hostId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                out.put("created_at", TIME.format(rs.getTimestamp(1).toInstant().atOffset(ZoneOffset.UTC)));
                out.put("id", hostId);
                out.put("owner", rs.getString(2));
                if (rs.getString(3) != null) {
                    out.put("policy", rs.getString(3));
                }
            }
        }
        out.put("permissions", List.of());
        List<Map<String, Object>> annotations = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT name, value, policy_id FROM annotations WHERE resource_id = ? ORDER BY name")) {
            ps.setString(1, hostId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Map<String, Object> a = new LinkedHashMap<>();
                    a.put("name", rs.getString(1));
                    a.put("value", rs.getString(2));
                    if (rs.getString(3) != null) {
                        a.put("policy", rs.getString(3));
                    }
                    annotations.add(a);
                }
            }
        }
        out.put("annotations", annotations);
        out.put("restricted_to", List.of());
        return out;
    }

    private static String one(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static void exec(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }
}
