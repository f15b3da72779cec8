package io.coffer.replication.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.NodeIdentity;
import io.coffer.api.election.Leadership;
import io.coffer.api.store.Position;

/**
 * The Leader's side, once a second: stamps the heartbeat row (a replica's lag is the age of the newest stamp it has
 * applied), lists the replicas, and keeps exactly one Standby synchronous.
 *
 * <p>The rule for the synchronous Standby: the first Standby seen streaming is named, before any other; once named
 * it stays named while it is away, so commits wait for it rather than complete unreplicated (never a false success).
 * Only when {@code replace_after_seconds} allows it is another Standby named, and only one that has flushed
 * everything the gone one could have acknowledged: up to this Leader's own flushed WAL position when it first saw the
 * Standby gone (a commit is flushed here before it waits, and none is acknowledged once its Standby is gone), not
 * merely the gone Standby's last reported position, which can be a second old. That is how an asynchronous Standby
 * becomes promotable in an auto-failover cluster: named and recorded synchronous first, by a Leader that proved it
 * complete; with the Leader and its synchronous Standby gone together nothing proves it, and nobody is promoted. Followers and DR Standbys (application names {@code follower_*},
 * {@code dr_standby_*}) are never synchronous. In an auto-failover cluster the choice is recorded in etcd
 * ({@link Leadership#recordSynchronous}) before it is set, and is not set when it can't be recorded: etcd then never
 * promotes a Standby the Leader did not wait for.
 */
final class Primary {
    private static final Logger LOG = LoggerFactory.getLogger(Primary.class);
    private static final Pattern NAMED = Pattern.compile("^FIRST 1 \\(\"?([a-z0-9_]+)\"?\\)$");

    private final NodeIdentity node;
    private long syncGoneSince;
    private String syncFlushed;
    /** This Leader's flushed WAL position when it first saw the synchronous Standby gone. */
    private String goneAtLsn;

    Primary(NodeIdentity node) {
        this.node = node;
    }

    Map<String, Object> tick(Connection c, Replication.Config config, Leadership leadership) throws SQLException {
        List<Map<String, Object>> replicas = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT application_name, state, "
                + "sync_state, flush_lsn::text, replay_lsn::text, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), "
                + "extract(epoch FROM replay_lag) FROM pg_stat_replication ORDER BY application_name")) {
            while (rs.next()) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("name", rs.getString(1));
                r.put("state", rs.getString(2));
                r.put("sync_state", rs.getString(3));
                r.put("flush_lsn", rs.getString(4));
                r.put("lag_bytes", rs.getObject(6) == null ? null : rs.getLong(6));
                r.put("lag_seconds", rs.getObject(7) == null ? 0.0 : rs.getDouble(7));
                replicas.add(r);
            }
        }
        String named = synchronousName(c);
        if (config.synchronous()) {
            if (named != null && !PENDING.equals(named) && leadership != null) {
                // Named before election ran (or before this node led): make sure etcd knows it.
                leadership.recordSynchronous(named);
            }
            named = keepOneSynchronous(c, named, replicas, config.replace_after_seconds(), leadership);
        }
        beat(c);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("synchronous_standby", named);
        m.put("replicas", replicas);
        return m;
    }

    /**
     * Stamps the heartbeat without waiting for the synchronous Standby: a beat is a measurement, not data, and a tick
     * that waited for a gone Standby could never name its replacement.
     */
    private void beat(Connection c) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement(); PreparedStatement ps = c.prepareStatement("INSERT INTO heartbeat(id, "
                + "node, beat_at) VALUES (1, ?, now()) ON CONFLICT (id) DO UPDATE SET node = EXCLUDED.node, "
                + "beat_at = EXCLUDED.beat_at")) {
            st.execute("SET LOCAL synchronous_commit TO local");
            ps.setString(1, node.name());
            ps.executeUpdate();
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private String keepOneSynchronous(Connection c, String named, List<Map<String, Object>> replicas,
            int replaceAfter, Leadership leadership) throws SQLException {
        Map<String, Object> current = null;
        List<Map<String, Object>> standbys = new ArrayList<>();
        for (Map<String, Object> r : replicas) {
            String name = (String) r.get("name");
            if (name != null && name.startsWith("standby_") && "streaming".equals(r.get("state"))) {
                standbys.add(r);
                if (name.equals(named)) {
                    current = r;
                }
            }
        }
        if (named == null || PENDING.equals(named)) {
            if (!standbys.isEmpty()) {
                String first = (String) standbys.get(0).get("name");
                if (!recorded(leadership, first)) {
                    return null;
                }
                name(c, first);
                LOG.info("named {} the synchronous Standby: commits now wait for it", first);
                return first;
            }
            return null;
        }
        if (current != null) {
            syncGoneSince = 0;
            syncFlushed = (String) current.get("flush_lsn");
            return named;
        }
        long now = System.currentTimeMillis();
        if (syncGoneSince == 0) {
            syncGoneSince = now;
            goneAtLsn = flushedHere(c);
            LOG.warn("the synchronous Standby {} is not streaming: commits wait for it", named);
        }
        if (replaceAfter <= 0 || now - syncGoneSince < replaceAfter * 1000L) {
            return named;
        }
        for (Map<String, Object> s : standbys) {
            String flushed = (String) s.get("flush_lsn");
            // Caught up: it holds every commit the gone Standby acknowledged, so no acknowledged write is lost.
            if (flushed != null && atLeast(flushed, syncFlushed) && goneAtLsn != null && atLeast(flushed, goneAtLsn)) {
                String next = (String) s.get("name");
                if (!recorded(leadership, next)) {
                    return named;
                }
                name(c, next);
                LOG.warn("replaced the synchronous Standby {} (gone {} s) by {}", named, (now - syncGoneSince) / 1000,
                        next);
                syncGoneSince = 0;
                return next;
            }
        }
        return named;
    }

    private static boolean atLeast(String lsn, String than) {
        return than == null || Long.compareUnsigned(Position.lsn(lsn), Position.lsn(than)) >= 0;
    }

    private static String flushedHere(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_wal_flush_lsn()::text")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static boolean recorded(Leadership leadership, String applicationName) {
        if (leadership == null || leadership.recordSynchronous(applicationName)) {
            return true;
        }
        LOG.warn("{} not named the synchronous Standby: etcd could not record it first", applicationName);
        return false;
    }

    /**
     * The name a freshly promoted Leader of an auto-failover cluster waits for until it names a real Standby: no
     * Standby streams under it, so its first commits wait instead of being acknowledged on one node only; the first
     * Standby streaming replaces it at once (whatever those commits wait for, it then holds).
     */
    static final String PENDING = "standby_pending_promotion";

    private static String synchronousName(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT current_setting('synchronous_standby_names')")) {
            rs.next();
            Matcher m = NAMED.matcher(rs.getString(1).trim());
            return m.matches() ? m.group(1) : null;
        }
    }

    private static void name(Connection c, String applicationName) throws SQLException {
        if (!applicationName.matches("[a-z0-9_]{1,63}")) {
            return;
        }
        try (Statement st = c.createStatement()) {
            st.execute("ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (\"" + applicationName + "\")'");
            st.execute("SELECT pg_reload_conf()");
        }
    }
}
