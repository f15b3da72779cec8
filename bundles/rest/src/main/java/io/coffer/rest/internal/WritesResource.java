package io.coffer.rest.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import io.coffer.api.authn.Identity;
import io.coffer.api.rest.ApiError;
import io.coffer.api.store.Database;
import io.coffer.api.store.Position;

/**
 * {@code GET /writes/{write_id}}: what became of a write that was answered {@code 503 outcome_unknown}
 * (architecture §5). {@code committed}: flushed by the synchronous Standby (or replicated to this replica), so it
 * survives a failover; {@code pending}: its commit still waits for the synchronous Standby on this node (lost if
 * this Leader fails now; PostgreSQL shows it to no other transaction until the Standby confirms); 404: no such write
 * in the caller's account on this node (it did not commit, or a replica has not received it yet). Only the caller's
 * own account's writes are visible, and the answer names no resource.
 */
@Path("/writes")
public class WritesResource {
    private static final Pattern UUID_TEXT =
            Pattern.compile("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
    /** How long to wait for the synchronous Standby to confirm a write this node sees: a busy one is ms behind. */
    private static final long CONFIRM_WAIT_MS = 1_000;

    private final Supplier<Database> database;

    WritesResource(Supplier<Database> database) {
        this.database = database;
    }

    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    public Response show(@PathParam("id") String id, @Context HttpServletRequest request) throws SQLException {
        Identity who = (Identity) request.getAttribute(ApiError.IDENTITY);
        if (id == null || !UUID_TEXT.matcher(id).matches()) {
            return ApiErrors.error(400, "argument_error", "the write id must be a lowercase UUID");
        }
        Database db = database.get();
        if (db == null || who == null) {
            return ApiErrors.error(503, "service_unavailable", "the database is not available yet");
        }
        try (Connection c = db.dataSource().getConnection()) {
            boolean found;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT 1 FROM change_log WHERE write_id = ? AND account = ?")) {
                ps.setObject(1, UUID.fromString(id));
                ps.setString(2, who.account());
                try (ResultSet rs = ps.executeQuery()) {
                    found = rs.next();
                }
            }
            if (!found && db.commitWaiting(UUID.fromString(id))) {
                return Response.ok(Map.of("write_id", id, "state", "pending")).build();
            }
            if (!found) {
                return ApiErrors.error(404, "not_found", "no write " + id + " in account '" + who.account()
                        + "' on this node: it did not commit here (a replica may not have received it yet)");
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("write_id", id);
            m.put("state", confirmed(c) ? "committed" : "pending");
            return Response.ok(m).build();
        }
    }

    /**
     * The write is visible, so its commit record precedes the current WAL position; once the synchronous Standby
     * has flushed that position it holds the write.
     */
    private static boolean confirmed(Connection c) throws SQLException {
        String upTo;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT pg_is_in_recovery(), current_setting('synchronous_standby_names')")) {
            rs.next();
            if (rs.getBoolean(1) || rs.getString(2).isBlank()) {
                // A replica holds it already; a Leader without a synchronous Standby acknowledges on its own flush.
                return true;
            }
        }
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            upTo = rs.getString(1);
        }
        long deadline = System.nanoTime() + CONFIRM_WAIT_MS * 1_000_000;
        while (true) {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT flush_lsn::text FROM pg_stat_replication WHERE sync_state = 'sync'")) {
                while (rs.next()) {
                    String flushed = rs.getString(1);
                    if (flushed != null
                            && Long.compareUnsigned(Position.lsn(flushed), Position.lsn(upTo)) >= 0) {
                        return true;
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }
}
