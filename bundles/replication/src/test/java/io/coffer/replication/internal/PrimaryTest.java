package io.coffer.replication.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.lang.annotation.Annotation;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.Test;

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;
import io.coffer.api.election.Leadership;

/**
 * The synchronous Standby is recorded in etcd before it is named, and not named when it can't be recorded — the rule
 * that keeps etcd from promoting a Standby the Leader did not wait for. The database is a stand-in that answers the
 * Leader's queries and records every statement.
 */
public class PrimaryTest {
    private final List<String> events = new ArrayList<>();
    private String synchronousNames = "";
    /** standby_n2's flushed position, and this Leader's own. */
    private String n2Flushed = "0/3000000";
    private String flushedHere = "0/3000000";

    private final NodeIdentity node = new NodeIdentity() {
        public String name() { return "n1"; }
        public NodeRole role() { return NodeRole.LEADER; }
        public Instant startedAt() { return Instant.EPOCH; }
    };

    private final Replication.Config config = new Replication.Config() {
        public Class<? extends Annotation> annotationType() { return Replication.Config.class; }
        public boolean synchronous() { return true; }
        public int replace_after_seconds() { return 0; }
        public int promote_timeout_seconds() { return 60; }
    };

    private Leadership leadership(boolean records) {
        return new Leadership() {
            public long epoch() { return 7; }
            public boolean holdsLeadership() { return records; }
            public Optional<String> leader() { return Optional.of("n1"); }
            public Map<String, Map<String, Object>> members() { return Map.of(); }
            public boolean recordSynchronous(String applicationName) {
                events.add((records ? "recorded " : "not recorded ") + applicationName);
                return records;
            }
        };
    }

    private static <T> T proxy(Class<T> type, java.lang.reflect.InvocationHandler h) {
        return type.cast(Proxy.newProxyInstance(PrimaryTest.class.getClassLoader(), new Class<?>[] {type}, h));
    }

    private ResultSet rows(List<Object[]> rows) {
        int[] at = {-1};
        return proxy(ResultSet.class, (p, m, a) -> {
            switch (m.getName()) {
                case "next": return ++at[0] < rows.size();
                case "getString": return (String) rows.get(at[0])[(Integer) a[0] - 1];
                case "getObject": return rows.get(at[0])[(Integer) a[0] - 1];
                case "getLong": return ((Number) rows.get(at[0])[(Integer) a[0] - 1]).longValue();
                case "getDouble": return ((Number) rows.get(at[0])[(Integer) a[0] - 1]).doubleValue();
                default: return null;
            }
        });
    }

    /** A database with standby_n2 streaming, whose synchronous_standby_names is {@link #synchronousNames}. */
    private Connection database() {
        Statement st = proxy(Statement.class, (p, m, a) -> {
            String sql = a != null && a.length > 0 && a[0] instanceof String ? (String) a[0] : "";
            switch (m.getName()) {
                case "executeQuery":
                    if (sql.contains("pg_stat_replication")) {
                        return rows(List.<Object[]>of(new Object[] {"standby_n2", "streaming", "async", n2Flushed,
                            n2Flushed, 0L, 0.0}));
                    }
                    if (sql.contains("pg_current_wal_flush_lsn")) {
                        return rows(List.<Object[]>of(new Object[] {flushedHere}));
                    }
                    return rows(List.<Object[]>of(new Object[] {synchronousNames}));
                case "execute":
                    if (sql.startsWith("ALTER SYSTEM")) {
                        events.add(sql);
                    }
                    return false;
                default: return null;
            }
        });
        PreparedStatement ps = proxy(PreparedStatement.class, (p, m, a) -> m.getName().equals("executeUpdate") ? 1 : null);
        return proxy(Connection.class, (p, m, a) -> {
            switch (m.getName()) {
                case "createStatement": return st;
                case "prepareStatement": return ps;
                case "getAutoCommit": return true;
                default: return null;
            }
        });
    }

    @Test
    public void theSynchronousStandbyIsRecordedInEtcdBeforeItIsNamed() throws Exception {
        Map<String, Object> s = new Primary(node).tick(database(), config, leadership(true));
        assertEquals("standby_n2", s.get("synchronous_standby"));
        assertEquals(List.of("recorded standby_n2",
                "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (\"standby_n2\")'"), events);
    }

    @Test
    public void aStandbyEtcdCouldNotRecordIsNotNamed() throws Exception {
        Map<String, Object> s = new Primary(node).tick(database(), config, leadership(false));
        assertNull(s.get("synchronous_standby"));
        assertEquals(List.of("not recorded standby_n2"), events);
    }

    @Test
    public void withoutElectionTheStandbyIsNamedAtOnce() throws Exception {
        new Primary(node).tick(database(), config, null);
        assertEquals(List.of("ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (\"standby_n2\")'"), events);
    }

    /** A freshly promoted Leader's first commits wait for a placeholder; the first Standby streaming replaces it. */
    @Test
    public void thePlaceholderOfAFreshPromotionIsReplacedAtOnceAndNeverRecorded() throws Exception {
        synchronousNames = "FIRST 1 (\"" + Primary.PENDING + "\")";
        Map<String, Object> s = new Primary(node).tick(database(), config, leadership(true));
        assertEquals("standby_n2", s.get("synchronous_standby"));
        assertEquals(List.of("recorded standby_n2",
                "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (\"standby_n2\")'"), events);
    }

    @Test
    public void aStandbyNamedBeforeElectionRanIsRecordedToo() throws Exception {
        synchronousNames = "FIRST 1 (\"standby_n2\")";
        Map<String, Object> s = new Primary(node).tick(database(), config, leadership(true));
        assertEquals("standby_n2", s.get("synchronous_standby"));
        assertTrue(events.toString(), events.contains("recorded standby_n2"));
        assertTrue("nothing named again", events.stream().noneMatch(e -> e.startsWith("ALTER SYSTEM")));
    }

    /**
     * The gone synchronous Standby (n3) is replaced only by one that has flushed all this Leader had flushed when it
     * saw n3 gone: n3's own last report can be a second old, and commits it acknowledged since would be lost.
     */
    @Test
    public void aReplacementMustHoldEverythingFlushedHereWhenTheStandbyWentAway() throws Exception {
        synchronousNames = "FIRST 1 (\"standby_n3\")";
        flushedHere = "0/5000000";
        Replication.Config replaceAfterOne = (Replication.Config) Proxy.newProxyInstance(
                PrimaryTest.class.getClassLoader(), new Class<?>[] {Replication.Config.class},
                (p, m, a) -> m.getName().equals("replace_after_seconds") ? 1 : m.invoke(config, a));
        Primary primary = new Primary(node);
        assertEquals("standby_n3", primary.tick(database(), replaceAfterOne, leadership(true)).get("synchronous_standby"));
        flushedHere = "0/6000000"; // the Leader goes on writing (heartbeats), which moves nothing that was acknowledged
        Thread.sleep(1_100);
        assertEquals("n2 is behind what was flushed here when n3 went", "standby_n3",
                primary.tick(database(), replaceAfterOne, leadership(true)).get("synchronous_standby"));
        n2Flushed = "0/5000000";
        assertEquals("standby_n2", primary.tick(database(), replaceAfterOne, leadership(true)).get("synchronous_standby"));
        assertTrue(events.toString(), events.contains("ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (\"standby_n2\")'"));
    }
}
