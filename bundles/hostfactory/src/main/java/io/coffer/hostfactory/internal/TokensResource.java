package io.coffer.hostfactory.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.DELETE;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.authn.Identity;
import io.coffer.api.crypto.Sealer;
import io.coffer.api.rbac.Access;
import io.coffer.api.rbac.Permissions;
import io.coffer.api.rest.ApiError;
import io.coffer.api.store.ChangeLog;
import io.coffer.api.store.Database;

/**
 * {@code POST /host_factory_tokens} and {@code DELETE /host_factory_tokens/{token}} (conjur-api §1.6). A token is a
 * bearer credential: 256 random bits, looked up by its SHA-256 and stored only sealed.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/host_factory_tokens")
@Produces(MediaType.APPLICATION_JSON)
public class TokensResource {
    static final int MAX_COUNT = 1000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Database db;
    private final Permissions permissions;
    private final Sealer sealer;
    private final ChangeLog changes;

    @Activate
    public TokensResource(@Reference Database db, @Reference Permissions permissions, @Reference Sealer sealer,
            @Reference ChangeLog changes) {
        this.db = db;
        this.permissions = permissions;
        this.sealer = sealer;
        this.changes = changes;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response create(InputStream body, @Context HttpServletRequest request) throws IOException {
        Identity who = identity(request);
        Params p;
        try {
            p = Params.parse(request.getQueryString(), body);
        } catch (IllegalArgumentException e) {
            return error(422, "argument_error", "parameters are not valid form encoding");
        } catch (IllegalStateException e) {
            return error(413, "payload_too_large", e.getMessage());
        }
        String hf = p.first("host_factory");
        if (hf == null || hf.isBlank()) {
            return error(422, "argument_error", "param is missing or the value is empty: host_factory");
        }
        String[] parts = hf.split(":", 3);
        if (parts.length < 3 || !parts[1].equals("host_factory") || parts[2].isEmpty()) {
            return error(422, "argument_error", "host_factory must be a full host_factory id");
        }
        String exp = p.first("expiration");
        if (exp == null || exp.isBlank()) {
            return error(422, "argument_error", "param is missing or the value is empty: expiration");
        }
        Instant expiration = instant(exp.trim());
        if (expiration == null) {
            return Response.status(422).type(MediaType.APPLICATION_JSON_TYPE)
                    .entity(ApiError.validation("expiration", "is not a valid ISO 8601 time")).build();
        }
        if (!expiration.isAfter(Instant.now())) {
            return Response.status(422).type(MediaType.APPLICATION_JSON_TYPE)
                    .entity(ApiError.validation("expiration", "must be in the future")).build();
        }
        int count = 1;
        String countParam = p.first("count");
        if (countParam != null) {
            if (!countParam.matches("[0-9]{1,4}") || Integer.parseInt(countParam) < 1
                    || Integer.parseInt(countParam) > MAX_COUNT) {
                return error(422, "argument_error", "count must be an integer from 1 to " + MAX_COUNT);
            }
            count = Integer.parseInt(countParam);
        }
        List<String> cidrs = p.list("cidr");
        for (String cidr : cidrs) {
            if (!cidr.matches("[0-9a-fA-F:.]{2,39}(/[0-9]{1,3})?")) {
                return error(422, "argument_error", "invalid cidr");
            }
        }
        Access access = permissions.check(who.roleId(), hf, "execute");
        if (access == Access.INVISIBLE) {
            return notFound(parts);
        }
        if (access != Access.ALLOWED) {
            return Response.status(403).build();
        }
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                if (!exists(c, hf)) {
                    c.rollback();
                    return notFound(parts);
                }
                List<Map<String, Object>> out = new ArrayList<>();
                List<String> normalized = null;
                for (int i = 0; i < count; i++) {
                    byte[] raw = new byte[32];
                    RANDOM.nextBytes(raw);
                    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
                    byte[] hash = sha256(token);
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO host_factory_tokens(token_sha256, "
                            + "resource_id, token, expiration, cidr) VALUES (?,?,?,?,?::cidr[]) "
                            + "RETURNING ARRAY(SELECT unnest(cidr)::text)")) {
                        ps.setBytes(1, hash);
                        ps.setString(2, hf);
                        ps.setBytes(3, sealer.seal(token.getBytes(StandardCharsets.US_ASCII), context(hash)));
                        ps.setObject(4, expiration.atOffset(ZoneOffset.UTC));
                        ps.setString(5, "{" + String.join(",", cidrs) + "}");
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            normalized = List.of((String[]) rs.getArray(1).getArray());
                        }
                    }
                    Map<String, Object> t = new LinkedHashMap<>();
                    t.put("expiration", expiration.truncatedTo(ChronoUnit.SECONDS).toString());
                    t.put("cidr", normalized);
                    t.put("token", token);
                    out.add(t);
                }
                changes.append(c, parts[0], "host-factory-token-create", hf);
                c.commit();
                return Response.ok(out).build();
            } catch (SQLException e) {
                c.rollback();
                if ("22P02".equals(e.getSQLState())) {
                    return error(422, "argument_error", "invalid cidr");
                }
                throw e;
            } catch (RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("host-factory tokens unavailable: " + e.getSQLState(), e);
        }
    }

    @DELETE
    @Path("{token}")
    public Response revoke(@PathParam("token") String token, @Context HttpServletRequest request) {
        Identity who = identity(request);
        byte[] hash = sha256(token);
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                String hf = null;
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT resource_id FROM host_factory_tokens WHERE token_sha256 = ? FOR UPDATE")) {
                    ps.setBytes(1, hash);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            hf = rs.getString(1);
                        }
                    }
                }
                Access access = hf == null ? Access.INVISIBLE : permissions.check(who.roleId(), hf, "update");
                if (access != Access.ALLOWED) {
                    c.rollback();
                    // An unknown token and a factory the caller can't see look the same: nothing to probe.
                    return access == Access.INVISIBLE ? error(404, "not_found", "Host factory token not found")
                            : Response.status(403).build();
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "DELETE FROM host_factory_tokens WHERE token_sha256 = ?")) {
                    ps.setBytes(1, hash);
                    ps.executeUpdate();
                }
                changes.append(c, hf.substring(0, hf.indexOf(':')), "host-factory-token-revoke", hf);
                c.commit();
                return Response.noContent().build();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("host-factory tokens unavailable: " + e.getSQLState(), e);
        }
    }

    /** ISO 8601 instant, offset time, or date (midnight UTC); {@code null} when none parses. */
    static Instant instant(String s) {
        try {
            return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
            // try the next form
        }
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            // try the next form
        }
        try {
            return LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The sealing context of a stored token: bound to its own hash, so a sealed token can't be swapped. */
    static String context(byte[] hash) {
        return "hf-token:" + HexFormat.of().formatHex(hash);
    }

    private static boolean exists(Connection c, String resourceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM resources WHERE resource_id = ? FOR SHARE")) {
            ps.setString(1, resourceId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    static Identity identity(HttpServletRequest request) {
        Identity who = (Identity) request.getAttribute(ApiError.IDENTITY);
        if (who == null) {
            throw new javax.ws.rs.NotAuthorizedException("Token");
        }
        return who;
    }

    private static Response notFound(String[] parts) {
        return Response.status(404).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(ApiError.notFound(parts[0], parts[1], parts[2])).build();
    }

    static Response error(int status, String code, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(ApiError.of(code, message)).build();
    }
}
