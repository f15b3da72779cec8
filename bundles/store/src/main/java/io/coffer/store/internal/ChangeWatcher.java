package io.coffer.store.internal;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.store.Changes;
import io.coffer.api.store.Database;
import io.coffer.api.store.Position;

/**
 * Watches the WAL position (replay position on a replica) every 50 ms on its own thread and moves the generation
 * when it changes. It compares LSNs, never sequence ids: ids commit out of order, LSNs don't (architecture §8). When
 * the database doesn't answer, the generation stays: caches keep serving what they know (degraded, not down).
 */
@Component(service = Changes.class)
public class ChangeWatcher implements Changes {
    static final long INTERVAL_MS = 50;

    private final Database db;
    private final AtomicLong generation = new AtomicLong();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "coffer-change-watcher");
        t.setDaemon(true);
        return t;
    });
    private volatile String lastLsn;
    private volatile Position applied;
    static final long WINDOW = 5000;
    private long windowMax = -1;
    private long windowFloor = -1;
    private long windowCount = -1;

    @Activate
    public ChangeWatcher(@Reference Database db) {
        this.db = db;
        timer.scheduleWithFixedDelay(this::poll, 0, INTERVAL_MS, TimeUnit.MILLISECONDS);
    }

    @Deactivate
    void deactivate() {
        timer.shutdownNow();
    }

    /**
     * One poll at a time (the timer's and a caller's): two could both see the new position, and the one that
     * marked it seen might not yet have looked at the change log when the other returned.
     */
    synchronized void poll() {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.setQueryTimeout(2);
            try (ResultSet rs = st.executeQuery("SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
                    + "ELSE pg_current_wal_lsn() END::text, coalesce((SELECT received_tli FROM pg_stat_wal_receiver), "
                    + "(SELECT timeline_id FROM pg_control_checkpoint()))")) {
                rs.next();
                String lsn = rs.getString(1);
                if (lsn == null) {
                    return;
                }
                if (!lsn.equals(lastLsn)) {
                    if (changeLogMoved(c)) {
                        generation.incrementAndGet();
                    }
                    lastLsn = lsn; // only once looked at: a failed look is retried at the next poll
                }
                // Published after the generation moved: whoever sees this position computes under the new one.
                applied = new Position(rs.getLong(2), Position.lsn(lsn));
            }
        } catch (Exception e) {
            // Keep the generation: the caches stay valid for what was committed before the outage.
        }
    }

    /**
     * The WAL also moves for what changes no data (the Leader's heartbeat every second, checkpoints), and caches
     * must not be dropped for those. Every data change commits with a change-log row, so look for a row not seen
     * before among the newest {@link #WINDOW} sequence numbers: rows commit out of order, but a writer takes its
     * number just before committing, so a late commit always lands inside the window.
     */
    private boolean changeLogMoved(Connection c) throws java.sql.SQLException {
        try (java.sql.PreparedStatement ps = c.prepareStatement(
                "SELECT coalesce(max(seq), 0), count(*) FROM change_log WHERE seq > ?")) {
            ps.setLong(1, Math.max(0, windowMax - WINDOW));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long max = rs.getLong(1);
                long count = rs.getLong(2);
                long floor = Math.max(0, windowMax - WINDOW);
                boolean moved = max != windowMax || count != windowCount || floor != windowFloor;
                windowMax = Math.max(windowMax, max);
                windowFloor = floor;
                windowCount = count;
                return moved;
            }
        }
    }

    @Override
    public long generation() {
        return generation.get();
    }

    @Override
    public void invalidate() {
        generation.incrementAndGet();
    }

    @Override
    public Position applied() {
        return applied;
    }
}
