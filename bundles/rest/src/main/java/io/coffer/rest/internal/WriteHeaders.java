package io.coffer.rest.internal;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import javax.ws.rs.container.ContainerRequestContext;
import javax.ws.rs.container.ContainerResponseContext;
import javax.ws.rs.container.ContainerResponseFilter;

import io.coffer.api.NodeIdentity;
import io.coffer.api.election.Leadership;
import io.coffer.api.store.Changes;
import io.coffer.api.store.Database;

/**
 * Write responses carry who acknowledged them and where in the log they landed (architecture §8):
 * {@code X-Coffer-Node}, {@code X-Coffer-Epoch} (the etcd leader key's create_revision in an auto-failover
 * cluster, else the PostgreSQL timeline) and
 * {@code X-Coffer-Position} ({@code timeline/LSN}, read after the write committed: an upper bound of its commit).
 * It also tells the read caches that this node changed data, before the client gets its answer.
 */
public class WriteHeaders implements ContainerResponseFilter {
    private static final Set<String> WRITES = Set.of("POST", "PUT", "PATCH", "DELETE");
    private static final Pattern NOT_WRITES = Pattern.compile("^/authn[^/]*/.+/authenticate$");

    private final NodeIdentity node;
    private final Supplier<Database> database;
    private final Supplier<Changes> changes;
    private final Supplier<Leadership> leadership;

    WriteHeaders(NodeIdentity node, Supplier<Database> database, Supplier<Changes> changes,
            Supplier<Leadership> leadership) {
        this.node = node;
        this.database = database;
        this.changes = changes;
        this.leadership = leadership;
    }

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        if (!WRITES.contains(request.getMethod()) || response.getStatus() >= 300
                || NOT_WRITES.matcher(request.getUriInfo().getRequestUri().getRawPath()).matches()) {
            return;
        }
        // This node's own write is visible to its next read at once (read-your-writes on the Leader).
        Changes ch = changes.get();
        if (ch != null) {
            ch.invalidate();
        }
        response.getHeaders().putSingle("X-Coffer-Node", node.name());
        Database db = database.get();
        if (db == null) {
            return;
        }
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT timeline_id, pg_current_wal_lsn()::text FROM pg_control_checkpoint()")) {
            if (rs.next()) {
                Leadership l = leadership.get();
                long epoch = l != null && l.epoch() > 0 ? l.epoch() : rs.getLong(1);
                response.getHeaders().putSingle("X-Coffer-Epoch", epoch);
                response.getHeaders().putSingle("X-Coffer-Position", rs.getLong(1) + "/" + rs.getString(2));
            }
        } catch (SQLException e) {
            // The write committed; a missing position header only means the client can't wait on it.
        }
    }
}
