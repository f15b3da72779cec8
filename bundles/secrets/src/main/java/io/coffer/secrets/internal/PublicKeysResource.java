package io.coffer.secrets.internal;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.crypto.Sealer;
import io.coffer.api.secrets.SecretWriter;
import io.coffer.api.store.Database;

/**
 * {@code GET /public_keys/{account}/user/{login}} (no auth, as in Conjur): the latest value of each of the user's
 * {@code public_key} resources, one per line, sorted by key name, with a trailing newline.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/public_keys/{account}/{kind}/{login}")
public class PublicKeysResource {
    private final Database db;
    private final Sealer sealer;

    @Activate
    public PublicKeysResource(@Reference Database db, @Reference Sealer sealer) {
        this.db = db;
        this.sealer = sealer;
    }

    @GET
    public Response keys(@PathParam("account") String account, @PathParam("kind") String kind,
            @PathParam("login") String login) {
        if (!"user".equals(kind) || login.contains("/") || login.contains("%") || login.contains("_")) {
            return Response.status(404).build();
        }
        String prefix = account + ":public_key:user/" + login + "/";
        StringBuilder out = new StringBuilder();
        String sql = "SELECT DISTINCT ON (s.resource_id) s.resource_id, s.version, s.value FROM secrets s "
                + "WHERE s.resource_id LIKE ? ORDER BY s.resource_id, s.version DESC";
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, prefix + "%");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getString(1).indexOf('/', prefix.length()) >= 0) {
                        continue;
                    }
                    byte[] v = sealer.open(rs.getBytes(3), SecretWriter.context(rs.getString(1), rs.getInt(2)));
                    out.append(new String(v, StandardCharsets.UTF_8).strip()).append('\n');
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("public keys unavailable: " + e.getSQLState(), e);
        }
        return Response.ok(out.toString(), MediaType.TEXT_PLAIN_TYPE).build();
    }
}
