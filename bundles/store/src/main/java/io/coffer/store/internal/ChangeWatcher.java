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

    @Activate
    public ChangeWatcher(@Reference Database db) {
        this.db = db;
        timer.scheduleWithFixedDelay(this::poll, 0, INTERVAL_MS, TimeUnit.MILLISECONDS);
    }

    @Deactivate
    void deactivate() {
        timer.shutdownNow();
    }

    void poll() {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.setQueryTimeout(2);
            try (ResultSet rs = st.executeQuery("SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
                    + "ELSE pg_current_wal_lsn() END::text")) {
                rs.next();
                String lsn = rs.getString(1);
                if (!lsn.equals(lastLsn)) {
                    lastLsn = lsn;
                    generation.incrementAndGet();
                }
            }
        } catch (Exception e) {
            // Keep the generation: the caches stay valid for what was committed before the outage.
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
}
