package io.coffer.rbac.internal;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.QueryParam;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.coffer.api.audit.Audit;
import io.coffer.api.audit.AuditEvent;
import io.coffer.api.authn.Identity;
import io.coffer.api.crypto.Sealer;
import io.coffer.api.rbac.Access;
import io.coffer.api.rbac.Permissions;
import io.coffer.api.rest.ApiError;
import io.coffer.api.store.Database;
import io.coffer.api.rest.ClientIp;

/**
 * {@code /resources} (conjur-api §1.4): lists only what the caller (or a role it has) can see, shows one resource,
 * answers permission checks. Invisible resources are 404, never 403.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/resources")
@Produces(MediaType.APPLICATION_JSON)
public class ResourcesResource {
    static final int LIMIT_MAX = 1000;
    private static final String ALL_ROLES = "WITH RECURSIVE all_roles(role_id) AS (SELECT ?::text UNION "
            + "SELECT m.role_id FROM role_memberships m JOIN all_roles a ON m.member_id = a.role_id) ";
    private static final String VISIBLE = "(r.owner_id IN (SELECT role_id FROM all_roles) OR EXISTS (SELECT 1 FROM "
            + "permissions p WHERE p.resource_id = r.resource_id AND p.role_id IN (SELECT role_id FROM all_roles)))";

    private final Database db;
    private final Permissions permissions;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Sealer sealer;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Audit audit;

    @Activate
    public ResourcesResource(@Reference Database db, @Reference Permissions permissions) {
        this.db = db;
        this.permissions = permissions;
    }

    /** {@code GET /resources}: every visible resource, which for a token's role means its own account's. */
    @GET
    public Response listAll(@QueryParam("kind") String kind, @QueryParam("limit") String limit,
            @QueryParam("offset") String offset, @QueryParam("count") boolean count,
            @QueryParam("acting_as") String actingAs, @QueryParam("role") String role,
            @QueryParam("search") String search, @QueryParam("owner") String owner,
            @Context HttpServletRequest request) {
        return audited(null, kind, limit, offset, count, actingAs, role, search, owner, request);
    }

    @GET
    @Path("{account}")
    public Response listAccount(@PathParam("account") String account, @QueryParam("kind") String kindParam,
            @QueryParam("limit") String limit, @QueryParam("offset") String offset,
            @QueryParam("count") boolean count, @QueryParam("acting_as") String actingAs,
            @QueryParam("role") String role, @QueryParam("search") String search, @QueryParam("owner") String owner,
            @Context HttpServletRequest request) {
        return audited(account, kindParam, limit, offset, count, actingAs, role, search, owner, request);
    }

    @GET
    @Path("{account}/{kind}")
    public Response listKind(@PathParam("account") String account, @PathParam("kind") String kind,
            @QueryParam("limit") String limit, @QueryParam("offset") String offset,
            @QueryParam("count") boolean count, @QueryParam("acting_as") String actingAs,
            @QueryParam("role") String role, @QueryParam("search") String search, @QueryParam("owner") String owner,
            @Context HttpServletRequest request) {
        return audited(account, kind, limit, offset, count, actingAs, role, search, owner, request);
    }

    /** A list ({@code account} null: the caller's own, unnamed in the audit), and its {@code list} event. */
    private Response audited(String account, String kind, String limit, String offset, boolean count, String actingAs,
            String role, String search, String owner, HttpServletRequest request) {
        Identity who = identity(request);
        Response r = list(account != null ? account : who.account(), kind, limit, offset, count,
                actingAs != null ? actingAs : role, search, owner, request);
        ReadAudit.list(audit, request, who, "list", "resources",
                listParams(account, kind, limit, offset, search, count, actingAs, role), r);
        return r;
    }

    /**
     * A list's parameters as Conjur audits them: account, kind, limit, offset, search as given; its default limit
     * when the list is neither paged nor counted; then count, acting_as, role.
     */
    static Map<String, String> listParams(String account, String kind, String limit, String offset, String search,
            boolean count, String actingAs, String role) {
        Map<String, String> p = new LinkedHashMap<>();
        putIf(p, "account", account);
        putIf(p, "kind", kind);
        putIf(p, "limit", limit);
        putIf(p, "offset", offset);
        putIf(p, "search", search);
        if (limit == null && offset == null && !count) {
            p.put("limit", Integer.toString(LIMIT_MAX));
        }
        if (count) {
            p.put("count", "true");
        }
        putIf(p, "acting_as", actingAs);
        putIf(p, "role", role);
        return p;
    }

    static void putIf(Map<String, String> m, String key, String value) {
        if (value != null) {
            m.put(key, value);
        }
    }

    @GET
    @Path("{account}/{kind}/{id: .+}")
    public Response show(@PathParam("account") String account, @PathParam("kind") String kind,
            @PathParam("id") String id, @QueryParam("check") boolean check,
            @QueryParam("permitted_roles") boolean permittedRoles,
            @QueryParam("privilege") String privilege, @QueryParam("permission") String permission,
            @QueryParam("role") String role, @Context HttpServletRequest request) {
        Identity who = identity(request);
        String resourceId = account + ":" + kind + ":" + id;
        if (check) {
            String priv = privilege != null ? privilege : permission;
            if (priv == null || priv.isBlank()) {
                return error(422, "argument_error", "privilege");
            }
            String subject = who.roleId();
            if (role != null) {
                // The caller must have the role it asks about (member or owner, transitively).
                if (!has(who.roleId(), role)) {
                    auditCheck(request, who, role, priv, resourceId, false);
                    return Response.status(403).build();
                }
                subject = role;
            }
            boolean allowed = permissions.check(subject, resourceId, priv) == Access.ALLOWED;
            auditCheck(request, who, role, priv, resourceId, true);
            return allowed ? Response.noContent().build() : Response.status(404).build();
        }
        if (permittedRoles) {
            if (permissions.check(who.roleId(), resourceId, "read") == Access.INVISIBLE) {
                return notFound(account, kind, id);
            }
            String priv = privilege != null ? privilege : permission;
            if (priv == null || priv.isBlank()) {
                return error(422, "argument_error", "privilege");
            }
            return permittedRoles(resourceId, priv);
        }
        Response r = details(who, account, kind, id);
        ReadAudit.show(audit, request, who, resourceId, r);
        return r;
    }

    /** One resource's details: 404 when it doesn't exist or the caller can't see it. */
    private Response details(Identity who, String account, String kind, String id) {
        String resourceId = account + ":" + kind + ":" + id;
        if (permissions.check(who.roleId(), resourceId, "read") == Access.INVISIBLE) {
            return notFound(account, kind, id);
        }
        try (Connection c = db.dataSource().getConnection()) {
            List<Map<String, Object>> found = Rows.query(c, "SELECT r.resource_id, r.owner_id, r.policy_id, r.created_at "
                    + "FROM resources r WHERE r.resource_id = ?", List.of(resourceId));
            if (found.isEmpty()) {
                return notFound(account, kind, id);
            }
            Map<String, Object> res = found.get(0);
            decorate(c, res, kind);
            return Response.ok(res).build();
        } catch (SQLException e) {
            throw new IllegalStateException("resources unavailable: " + e.getSQLState(), e);
        }
    }

    /** Roles with the privilege directly or through ownership, and every role that (transitively) has one of them. */
    private Response permittedRoles(String resourceId, String privilege) {
        String sql = "WITH RECURSIVE base(role_id) AS (SELECT role_id FROM permissions WHERE resource_id = ? AND "
                + "privilege = ? UNION SELECT owner_id FROM resources WHERE resource_id = ?), "
                + "holders(role_id) AS (SELECT role_id FROM base UNION SELECT m.member_id FROM role_memberships m "
                + "JOIN holders h ON m.role_id = h.role_id) SELECT role_id FROM holders ORDER BY role_id";
        try (Connection c = db.dataSource().getConnection()) {
            List<Object> ids = new ArrayList<>();
            Rows.query(c, sql, List.of(resourceId, privilege, resourceId)).forEach(m -> ids.add(m.get("role_id")));
            return Response.ok(ids).build();
        } catch (SQLException e) {
            throw new IllegalStateException("roles unavailable: " + e.getSQLState(), e);
        }
    }

    private Response list(String account, String kind, String limitParam, String offsetParam, boolean count,
            String actingAs, String search, String owner, HttpServletRequest request) {
        Identity who = identity(request);
        String subject = who.roleId();
        if (actingAs != null) {
            if (actingAs.split(":", -1).length < 3 || !has(who.roleId(), actingAs)) {
                return Response.status(403).build();
            }
            subject = actingAs;
        }
        Integer limit = integer(limitParam, 1);
        Integer offset = integer(offsetParam, 0);
        if ((limitParam != null && limit == null) || (offsetParam != null && offset == null)) {
            return error(422, "argument_error", limitParam != null && limit == null ? "limit" : "offset");
        }
        if (limit == null) {
            limit = offset == null ? LIMIT_MAX : 10;
        } else if (limit > LIMIT_MAX && limit != 10000) {
            return error(422, "argument_error", "limit must be at most " + LIMIT_MAX);
        }
        List<Object> args = new ArrayList<>(List.of(subject, account));
        String where = " FROM resources r WHERE r.account = ?" + (kind != null ? " AND r.kind = ?" : "") + " AND " + VISIBLE;
        if (kind != null) {
            args.add(kind);
        }
        if (owner != null) {
            // Owned by that role or by a role it has (conjur-api §1.4).
            where += " AND r.owner_id IN (WITH RECURSIVE o(role_id) AS (SELECT ?::text UNION SELECT m.role_id FROM "
                    + "role_memberships m JOIN o ON m.member_id = o.role_id) SELECT role_id FROM o)";
            args.add(owner);
        }
        for (String word : words(search)) {
            // Every word must appear in the identifier or an annotation value; ./- separate words, as in Conjur.
            where += " AND (r.identifier ILIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM annotations a WHERE "
                    + "a.resource_id = r.resource_id AND a.value ILIKE ? ESCAPE '\\'))";
            String like = "%" + RolesResource.likeEscape(word) + "%";
            args.add(like);
            args.add(like);
        }
        try (Connection c = db.dataSource().getConnection()) {
            if (count) {
                List<Map<String, Object>> n = Rows.query(c, ALL_ROLES + "SELECT count(*) AS count" + where, args);
                return Response.ok(Map.of("count", n.get(0).get("count"))).build();
            }
            args.add(limit);
            args.add(offset == null ? 0 : offset);
            List<Map<String, Object>> rows = Rows.query(c, ALL_ROLES + "SELECT r.resource_id, r.owner_id, r.policy_id, "
                    + "r.created_at" + where + " ORDER BY r.resource_id LIMIT ? OFFSET ?", args);
            for (Map<String, Object> r : rows) {
                decorate(c, r, ((String) r.get("id")).split(":", 3)[1]);
            }
            return Response.ok(rows).build();
        } catch (SQLException e) {
            throw new IllegalStateException("resources unavailable: " + e.getSQLState(), e);
        }
    }

    static List<String> words(String search) {
        List<String> out = new ArrayList<>();
        if (search != null) {
            for (String w : search.split("[\\s./-]+")) {
                if (!w.isEmpty()) {
                    out.add(w);
                }
            }
        }
        return out;
    }

    /** Whether {@code roleId} transitively has {@code other} (is a member, or holds its owner). */
    private boolean has(String roleId, String other) {
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                ALL_ROLES + "SELECT 1 FROM all_roles WHERE role_id = ?")) {
            ps.setString(1, roleId);
            ps.setString(2, other);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("roles unavailable: " + e.getSQLState(), e);
        }
    }

    private void decorate(Connection c, Map<String, Object> res, String kind) throws SQLException {
        String id = (String) res.get("id");
        res.put("permissions", Rows.query(c, "SELECT privilege, role_id AS role, policy_id AS policy FROM permissions "
                + "WHERE resource_id = ? ORDER BY role_id, privilege", List.of(id)));
        res.put("annotations", Rows.query(c, "SELECT name, value, policy_id AS policy FROM annotations "
                + "WHERE resource_id = ? ORDER BY name", List.of(id)));
        if (kind.equals("variable")) {
            res.put("secrets", Rows.query(c, "SELECT version, expires_at FROM secrets WHERE resource_id = ? "
                    + "ORDER BY version", List.of(id)));
        }
        if (kind.equals("user") || kind.equals("host")) {
            List<Map<String, Object>> cidrs = Rows.query(c, "SELECT unnest(restricted_to)::text AS cidr FROM credentials "
                    + "WHERE role_id = ?", List.of(id));
            List<Object> list = new ArrayList<>();
            cidrs.forEach(m -> list.add(m.get("cidr")));
            res.put("restricted_to", list);
        }
        if (kind.equals("policy")) {
            res.put("policy_versions", Rows.query(c, "SELECT version, created_at, policy_text, policy_sha256, "
                    + "finished_at, client_ip, resource_id, role_id AS role FROM policy_versions WHERE resource_id = ? "
                    + "ORDER BY version", List.of(id)));
        }
        if (kind.equals("host_factory")) {
            List<Object> layers = new ArrayList<>();
            Rows.query(c, "SELECT role_id FROM role_memberships WHERE member_id = ? AND NOT ownership AND "
                    + "split_part(role_id, ':', 2) = 'layer' ORDER BY role_id", List.of(id))
                    .forEach(m -> layers.add(m.get("role_id")));
            res.put("layers", layers);
            res.put("tokens", hostFactoryTokens(c, id));
        }
    }

    /** The factory's live tokens, opened for whoever may see the factory (as Conjur shows them). */
    private List<Map<String, Object>> hostFactoryTokens(Connection c, String id) throws SQLException {
        List<Map<String, Object>> out = new ArrayList<>();
        Sealer s = sealer;
        try (PreparedStatement ps = c.prepareStatement("SELECT token_sha256, token, expiration, "
                + "ARRAY(SELECT unnest(cidr)::text) AS cidr FROM host_factory_tokens WHERE resource_id = ? AND "
                + "expiration > now() ORDER BY created_at, token_sha256")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Map<String, Object> t = new LinkedHashMap<>();
                    t.put("token", s == null ? null : new String(s.open(rs.getBytes(2), "hf-token:"
                            + HexFormat.of().formatHex(rs.getBytes(1))), StandardCharsets.US_ASCII));
                    t.put("expiration", rs.getTimestamp(3).toInstant().truncatedTo(ChronoUnit.SECONDS).toString());
                    t.put("cidr", List.of((String[]) rs.getArray(4).getArray()));
                    out.add(t);
                }
            }
        }
        return out;
    }

    static Integer integer(String s, int min) {
        if (s == null || !s.matches("[0-9]{1,9}")) {
            return null;
        }
        int v = Integer.parseInt(s);
        return v < min ? null : v;
    }

    /** One {@code check} event (conjur-api §6): the check ran (whatever it answered), or was refused. */
    private void auditCheck(HttpServletRequest request, Identity who, String role, String priv, String resourceId,
            boolean ran) {
        Audit a = audit;
        if (a == null) {
            return;
        }
        String user = who.roleId();
        a.record(AuditEvent.builder("check", "check", ran)
                .request(request.getAttribute(AuditEvent.REQUEST_ID),
                        ClientIp.of(request::getAttribute, request.getRemoteAddr())).user(user)
                .subject("resource", resourceId).subject("role", role != null ? role : user)
                .subject("privilege", priv)
                .message(user + (ran ? " successfully" : " failed to") + " checked if "
                        + (role == null ? "they" : role) + " can " + priv + " " + resourceId).build());
    }

    static Identity identity(HttpServletRequest request) {
        Identity who = (Identity) request.getAttribute(ApiError.IDENTITY);
        if (who == null) {
            throw new javax.ws.rs.NotAuthorizedException("Token");
        }
        return who;
    }

    static Response notFound(String account, String kind, String id) {
        return Response.status(404).type(MediaType.APPLICATION_JSON_TYPE).entity(ApiError.notFound(account, kind, id))
                .build();
    }

    static Response error(int status, String code, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(ApiError.of(code, message)).build();
    }
}
