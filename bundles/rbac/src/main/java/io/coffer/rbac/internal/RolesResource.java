package io.coffer.rbac.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
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

import io.coffer.api.authn.Identity;
import io.coffer.api.rbac.Access;
import io.coffer.api.rbac.Permissions;
import io.coffer.api.rest.ApiError;
import io.coffer.api.store.Database;

/**
 * {@code GET /roles/{account}/{kind}/{id}} (conjur-api §1.5): show with members, {@code ?members}, {@code ?memberships},
 * {@code ?all}. A role is served only when its resource is visible to the caller.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/roles/{account}/{kind}/{id: .+}")
@Produces(MediaType.APPLICATION_JSON)
public class RolesResource {
    private static final String MEMBERSHIP = "SELECT admin_option, ownership, role_id AS role, member_id AS member, "
            + "policy_id FROM role_memberships WHERE ";

    private final Database db;
    private final Permissions permissions;

    @Activate
    public RolesResource(@Reference Database db, @Reference Permissions permissions) {
        this.db = db;
        this.permissions = permissions;
    }

    @GET
    public Response show(@PathParam("account") String account, @PathParam("kind") String kind,
            @PathParam("id") String id, @Context javax.ws.rs.core.UriInfo uri,
            @QueryParam("count") boolean count, @QueryParam("limit") String limit, @QueryParam("offset") String offset,
            @Context HttpServletRequest request) {
        Identity who = (Identity) request.getAttribute(ApiError.IDENTITY);
        if (who == null) {
            throw new javax.ws.rs.NotAuthorizedException("Token");
        }
        String roleId = account + ":" + kind + ":" + id;
        boolean all = flag(uri, "all");
        boolean memberships = flag(uri, "memberships");
        boolean members = flag(uri, "members");
        if (permissions.check(who.roleId(), roleId, "read") == Access.INVISIBLE) {
            return Response.status(404).type(MediaType.APPLICATION_JSON_TYPE)
                    .entity(ApiError.notFound(account, kind, id)).build();
        }
        Integer lim = ResourcesResource.integer(limit, 1);
        Integer off = ResourcesResource.integer(offset, 0);
        if ((limit != null && lim == null) || (offset != null && off == null)) {
            return Response.status(422).type(MediaType.APPLICATION_JSON_TYPE)
                    .entity(ApiError.of("argument_error", limit != null && lim == null ? "limit" : "offset")).build();
        }
        String page = " ORDER BY role_id, member_id LIMIT " + (lim == null ? 1000 : lim) + " OFFSET " + (off == null ? 0 : off);
        try (Connection c = db.dataSource().getConnection()) {
            List<Map<String, Object>> role = Rows.query(c, "SELECT role_id AS id, created_at, policy_id FROM roles "
                    + "WHERE role_id = ?", List.of(roleId));
            if (role.isEmpty()) {
                return Response.status(404).type(MediaType.APPLICATION_JSON_TYPE)
                        .entity(ApiError.notFound(account, kind, id)).build();
            }
            if (all) {
                List<Object> ids = new ArrayList<>();
                Rows.query(c, "WITH RECURSIVE all_roles(role_id) AS (SELECT ?::text UNION SELECT m.role_id FROM "
                        + "role_memberships m JOIN all_roles a ON m.member_id = a.role_id) SELECT role_id FROM all_roles "
                        + "ORDER BY role_id", List.of(roleId)).forEach(m -> ids.add(m.get("role_id")));
                return Response.ok(count ? Map.of("count", ids.size()) : ids).build();
            }
            if (memberships) {
                return rows(c, MEMBERSHIP + "member_id = ?", roleId, count, page);
            }
            if (members) {
                return rows(c, MEMBERSHIP + "role_id = ?", roleId, count, page);
            }
            Map<String, Object> out = role.get(0);
            out.put("members", Rows.query(c, MEMBERSHIP + "role_id = ?" + page, List.of(roleId)));
            return Response.ok(out).build();
        } catch (SQLException e) {
            throw new IllegalStateException("roles unavailable: " + e.getSQLState(), e);
        }
    }

    /** Conjur's flags are bare query keys ({@code ?all}); a bare key has no value, so look at the query itself. */
    static boolean flag(javax.ws.rs.core.UriInfo uri, String key) {
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

    private static Response rows(Connection c, String sql, String roleId, boolean count, String page)
            throws SQLException {
        if (count) {
            return Response.ok(Map.of("count", Rows.query(c, sql, List.of(roleId)).size())).build();
        }
        return Response.ok(Rows.query(c, sql + page, List.of(roleId))).build();
    }
}
