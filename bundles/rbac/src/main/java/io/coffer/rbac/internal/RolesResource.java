package io.coffer.rbac.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.DELETE;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.QueryParam;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;
import javax.ws.rs.core.UriInfo;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.coffer.api.audit.Audit;
import io.coffer.api.authn.Identity;
import io.coffer.api.rbac.Access;
import io.coffer.api.rbac.Memberships;
import io.coffer.api.rbac.Permissions;
import io.coffer.api.store.Database;

/**
 * {@code /roles/{account}/{kind}/{id}} (conjur-api §1.5): show with members, {@code ?members}, {@code ?memberships},
 * {@code ?all}, {@code ?graph} (that priority), and grants through {@code POST|DELETE ?members&member=}. A role is
 * served only when its resource is visible to the caller.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/roles/{account}/{kind}/{id: .+}")
@Produces(MediaType.APPLICATION_JSON)
public class RolesResource {
    private static final String MEMBERSHIP = "SELECT admin_option, ownership, role_id AS role, member_id AS member, "
            + "policy_id FROM role_memberships WHERE ";
    private static final String ANCESTORS = "WITH RECURSIVE all_roles(role_id) AS (SELECT ?::text UNION SELECT "
            + "m.role_id FROM role_memberships m JOIN all_roles a ON m.member_id = a.role_id) ";

    private final Database db;
    private final Permissions permissions;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Audit audit;
    /** Present on a Leader only (the write bundles); grants elsewhere answer 405 before they get here. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Memberships memberships;

    @Activate
    public RolesResource(@Reference Database db, @Reference Permissions permissions) {
        this.db = db;
        this.permissions = permissions;
    }

    @GET
    public Response show(@PathParam("account") String account, @PathParam("kind") String kind,
            @PathParam("id") String id, @Context UriInfo uri,
            @QueryParam("count") String count, @QueryParam("limit") String limit, @QueryParam("offset") String offset,
            @QueryParam("search") String search, @QueryParam("kind") List<String> kinds,
            @Context HttpServletRequest request) {
        Identity who = ResourcesResource.identity(request);
        Response r = role(who, account, kind, id, uri, count, limit, offset, search, kinds);
        // Members and memberships are audited (conjur-api §6); the role itself, ?all and ?graph are not, as in Conjur.
        boolean ms = flag(uri, "memberships");
        if (!flag(uri, "graph") && !flag(uri, "all") && (ms || flag(uri, "members"))) {
            Map<String, String> p = new LinkedHashMap<>();
            p.put("account", account);
            if (flag(uri, "count")) {
                p.put("count", count == null || count.isEmpty() ? "true" : count);
            }
            if (ms) {
                ResourcesResource.putIf(p, "search", search);
                p.put("kind", kind);
                List<String> f = filter(uri);
                if (f != null) {
                    p.put("filter", ReadAudit.inspect(f));
                }
            } else {
                p.put("kind", kind);
                ResourcesResource.putIf(p, "search", search);
                ResourcesResource.putIf(p, "limit", limit);
                ResourcesResource.putIf(p, "offset", offset);
            }
            p.put("role", account + ":" + kind + ":" + id);
            ReadAudit.list(audit, request, who, ms ? "membership" : "members", ms ? "memberships" : "members", p, r);
        }
        return r;
    }

    private Response role(Identity who, String account, String kind, String id, UriInfo uri, String count,
            String limit, String offset, String search, List<String> kinds) {
        String roleId = account + ":" + kind + ":" + id;
        if (permissions.check(who.roleId(), roleId, "read") == Access.INVISIBLE) {
            return ResourcesResource.notFound(account, kind, id);
        }
        Integer lim = ResourcesResource.integer(limit, 1);
        Integer off = ResourcesResource.integer(offset, 0);
        if ((limit != null && lim == null) || (offset != null && off == null)) {
            return ResourcesResource.error(422, "argument_error", limit != null && lim == null ? "limit" : "offset");
        }
        boolean counting = flag(uri, "count") && !"false".equals(count);
        List<String> filter = filter(uri);
        try (Connection c = db.dataSource().getConnection()) {
            List<Map<String, Object>> role = Rows.query(c, "SELECT role_id AS id, created_at, policy_id FROM roles "
                    + "WHERE role_id = ?", List.of(roleId));
            if (role.isEmpty()) {
                return ResourcesResource.notFound(account, kind, id);
            }
            if (flag(uri, "graph")) {
                return Response.ok(graph(c, who.roleId(), roleId)).build();
            }
            if (flag(uri, "all")) {
                List<Object> ids = new ArrayList<>();
                Rows.query(c, ANCESTORS + "SELECT role_id FROM all_roles ORDER BY role_id", List.of(roleId))
                        .forEach(m -> {
                            if (filter == null || filter.contains(m.get("role_id"))) {
                                ids.add(m.get("role_id"));
                            }
                        });
                return Response.ok(counting ? Map.of("count", ids.size()) : ids).build();
            }
            boolean ms = flag(uri, "memberships");
            if (ms || flag(uri, "members")) {
                // memberships: the roles this one is a member of; members: the roles that are members of it.
                String self = ms ? "member_id" : "role_id";
                String other = ms ? "role_id" : "member_id";
                StringBuilder sql = new StringBuilder(MEMBERSHIP + self + " = ?");
                List<Object> args = new ArrayList<>(List.of(roleId));
                if (search != null && !search.isBlank()) {
                    sql.append(" AND split_part(").append(other).append(", ':', 3) ILIKE ? ESCAPE '\\'");
                    args.add("%" + likeEscape(search.trim()) + "%");
                }
                if (kinds != null && !kinds.isEmpty()) {
                    sql.append(" AND split_part(").append(other).append(", ':', 2) = ANY (?)");
                    args.add(c.createArrayOf("text", kinds.toArray()));
                }
                if (ms && filter != null) {
                    sql.append(" AND role_id = ANY (?)");
                    args.add(c.createArrayOf("text", filter.toArray()));
                }
                List<Map<String, Object>> rows = Rows.query(c, sql + " ORDER BY role_id, member_id", args);
                if (counting) {
                    return Response.ok(Map.of("count", rows.size())).build();
                }
                return Response.ok(page(rows, lim, off)).build();
            }
            Map<String, Object> out = role.get(0);
            out.put("members", Rows.query(c, MEMBERSHIP + "role_id = ? ORDER BY role_id, member_id", List.of(roleId)));
            return Response.ok(out).build();
        } catch (SQLException e) {
            throw new IllegalStateException("roles unavailable: " + e.getSQLState(), e);
        }
    }

    /** {@code POST ?members&member=<full id>}: needs {@code create} on the role's policy. */
    @POST
    public Response grant(@PathParam("account") String account, @PathParam("kind") String kind,
            @PathParam("id") String id, @QueryParam("member") String member, @Context UriInfo uri,
            @Context HttpServletRequest request) {
        return change(account, kind, id, member, uri, request, true);
    }

    /** {@code DELETE ?members&member=<full id>}: needs {@code update} on the role's policy. */
    @DELETE
    public Response revoke(@PathParam("account") String account, @PathParam("kind") String kind,
            @PathParam("id") String id, @QueryParam("member") String member, @Context UriInfo uri,
            @Context HttpServletRequest request) {
        return change(account, kind, id, member, uri, request, false);
    }

    private Response change(String account, String kind, String id, String member, UriInfo uri,
            HttpServletRequest request, boolean add) {
        Identity who = ResourcesResource.identity(request);
        String roleId = account + ":" + kind + ":" + id;
        if (!flag(uri, "members")) {
            return ResourcesResource.error(422, "argument_error", "members");
        }
        if (member == null || member.split(":", -1).length < 3) {
            return ResourcesResource.error(422, "argument_error", "member");
        }
        if (permissions.check(who.roleId(), roleId, "read") == Access.INVISIBLE) {
            return ResourcesResource.notFound(account, kind, id);
        }
        Memberships writer = memberships;
        if (writer == null) {
            return ResourcesResource.error(405, "method_not_allowed", "grants are made on the Leader");
        }
        String policy;
        try (Connection c = db.dataSource().getConnection()) {
            List<Map<String, Object>> role = Rows.query(c, "SELECT policy_id FROM roles WHERE role_id = ?",
                    List.of(roleId));
            if (role.isEmpty()) {
                return ResourcesResource.notFound(account, kind, id);
            }
            Object p = role.get(0).get("policy");
            policy = p != null ? (String) p : account + ":policy:root";
        } catch (SQLException e) {
            throw new IllegalStateException("roles unavailable: " + e.getSQLState(), e);
        }
        if (permissions.check(who.roleId(), policy, add ? "create" : "update") != Access.ALLOWED) {
            return Response.status(403).build();
        }
        try {
            // Audited before the change commits, and only when it changed something (as Conjur).
            Runnable audited = () -> ReadAudit.membership(audit, request, who, roleId, member, add);
            if (add) {
                writer.grant(roleId, member, audited);
            } else {
                writer.revoke(roleId, member, audited);
            }
        } catch (IllegalArgumentException e) {
            String[] m = member.split(":", 3);
            return ResourcesResource.notFound(m[0], m[1], m[2]);
        }
        return Response.noContent().build();
    }

    /** Edges among the role's ancestors and descendants, keeping only edges whose ends the caller can see. */
    private List<Map<String, Object>> graph(Connection c, String caller, String roleId) throws SQLException {
        String sql = "WITH RECURSIVE up(role_id, member_id) AS (SELECT role_id, member_id FROM role_memberships "
                + "WHERE member_id = ? UNION SELECT m.role_id, m.member_id FROM role_memberships m JOIN up "
                + "ON m.member_id = up.role_id), down(role_id, member_id) AS (SELECT role_id, member_id FROM "
                + "role_memberships WHERE role_id = ? UNION SELECT m.role_id, m.member_id FROM role_memberships m "
                + "JOIN down ON m.role_id = down.member_id) SELECT role_id AS parent, member_id AS child FROM up "
                + "UNION SELECT role_id, member_id FROM down ORDER BY 1, 2";
        Map<String, Boolean> visible = new HashMap<>();
        List<Map<String, Object>> edges = new ArrayList<>();
        for (Map<String, Object> e : Rows.query(c, sql, List.of(roleId, roleId))) {
            String parent = (String) e.get("parent");
            String child = (String) e.get("child");
            if (visible.computeIfAbsent(parent, r -> permissions.check(caller, r, "read") != Access.INVISIBLE)
                    && visible.computeIfAbsent(child, r -> permissions.check(caller, r, "read") != Access.INVISIBLE)) {
                Map<String, Object> edge = new LinkedHashMap<>();
                edge.put("parent", parent);
                edge.put("child", child);
                edges.add(edge);
            }
        }
        return edges;
    }

    private static List<Map<String, Object>> page(List<Map<String, Object>> rows, Integer limit, Integer offset) {
        int from = Math.min(rows.size(), offset == null ? 0 : offset);
        int to = limit == null ? rows.size() : (int) Math.min(rows.size(), (long) from + limit);
        return rows.subList(from, to);
    }

    /** {@code filter[]=id} (or {@code filter=id}), repeated; {@code null} when absent. */
    private static List<String> filter(UriInfo uri) {
        List<String> out = new ArrayList<>();
        uri.getQueryParameters().forEach((k, v) -> {
            if (k.equals("filter[]") || k.equals("filter")) {
                out.addAll(v);
            }
        });
        return out.isEmpty() ? null : out;
    }

    static String likeEscape(String s) {
        return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    }

    /** Conjur's flags are bare query keys ({@code ?all}); a bare key has no value, so look at the query itself. */
    static boolean flag(UriInfo uri, String key) {
        String q = uri.getRequestUri().getRawQuery();
        if (q == null) {
            return false;
        }
        for (String part : q.split("&")) {
            if (part.equals(key) || part.startsWith(key + "=")) {
                return true;
            }
        }
        return false;
    }
}
