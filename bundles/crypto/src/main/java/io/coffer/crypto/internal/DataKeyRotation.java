package io.coffer.crypto.internal;

import java.nio.ByteBuffer;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.crypto.SealException;
import io.coffer.api.store.Database;

/**
 * Re-encrypts every sealed column (see {@link SealedColumns}) under the newest data-key version, in batches, each
 * row locked and updated only if it still holds the blob that was read; then, once no row names an older version,
 * destroys the older keyring rows. Readers never fail meanwhile: every version stays in the node's memory until it
 * stops. The state is the database itself (the blobs' versions and the keyring's rows), so a Leader that starts
 * with more than one version simply runs this again: a crash at any point is resumed.
 */
final class DataKeyRotation implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(DataKeyRotation.class);
    static final int BATCH = 200;

    private final Keyring keys;
    private final Database database;
    private final int target;
    private final long graceMillis;
    private final AtomicLong reencrypted = new AtomicLong();
    private volatile long remaining = -1;
    private volatile long unopenable;
    private volatile String state = "starting";
    /** Tests: stop (as if killed) after this many batches; negative = never. */
    volatile int crashAfterBatches = -1;

    /** Thrown to simulate a crash in tests. */
    static final class Crash extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Crash() {
            super("simulated crash");
        }
    }

    DataKeyRotation(Keyring keys, Database database, int target, long graceMillis) {
        this.keys = keys;
        this.database = database;
        this.target = target;
        this.graceMillis = graceMillis;
    }

    int target() {
        return target;
    }

    boolean finished() {
        return !state.equals("starting") && !state.startsWith("re-encrypting");
    }

    Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rotation", state);
        m.put("rotation_target", "v" + target);
        m.put("rotation_reencrypted", reencrypted.get());
        if (remaining >= 0) {
            m.put("rotation_remaining", remaining);
        }
        if (unopenable > 0) {
            m.put("rotation_unopenable", unopenable);
        }
        return m;
    }

    @Override
    public void run() {
        try {
            // Writes that sealed under the previous version just before it changed commit within this grace.
            Thread.sleep(graceMillis);
            state = "re-encrypting to v" + target;
            LOG.info("data-key rotation: re-encrypting every sealed value under v{}", target);
            int batches = 0;
            for (SealedColumns.Column col : SealedColumns.ALL) {
                batches = reencrypt(col, batches);
            }
            try (Connection c = database.dataSource().getConnection()) {
                c.setAutoCommit(false);
                long left = countOld(c);
                remaining = left;
                if (left > 0) {
                    c.rollback();
                    state = "incomplete: " + left + " value(s) still under older versions (" + unopenable
                            + " can't be opened: tampered?); older data keys kept";
                    LOG.error("data-key rotation to v{}: {}", target, state);
                    return;
                }
                int destroyed;
                try (PreparedStatement del = c.prepareStatement("DELETE FROM keyring WHERE version < ?");
                        PreparedStatement log = c.prepareStatement("INSERT INTO change_log(write_id, account, kind, "
                                + "subject) VALUES (?, '!', 'keyring', ?)")) {
                    del.setInt(1, target);
                    destroyed = del.executeUpdate();
                    log.setObject(1, UUID.randomUUID());
                    log.setString(2, "destroyed below v" + target);
                    log.executeUpdate();
                }
                c.commit();
                state = "done: " + reencrypted.get() + " value(s) re-encrypted, " + destroyed
                        + " older data-key version(s) destroyed";
                LOG.info("data-key rotation to v{} {}", target, state);
            }
        } catch (Crash e) {
            state = "stopped (simulated crash)";
        } catch (InterruptedException e) {
            state = "stopped";
            Thread.currentThread().interrupt();
        } catch (SQLException | RuntimeException e) {
            state = "failed: " + e.getMessage() + " (run coffer:keys-rotate-data again to resume)";
            LOG.error("data-key rotation to v{} {}", target, state);
        }
    }

    private byte[] targetBytes() {
        return ByteBuffer.allocate(4).putInt(target).array();
    }

    private String oldFilter(SealedColumns.Column col) {
        return col.column + " IS NOT NULL AND substring(" + col.column + " from 2 for 4) <> ?";
    }

    private long countOld(Connection c) throws SQLException {
        long n = 0;
        for (SealedColumns.Column col : SealedColumns.ALL) {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + col.table + " WHERE "
                    + oldFilter(col))) {
                ps.setBytes(1, targetBytes());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    n += rs.getLong(1);
                }
            }
        }
        return n;
    }

    private int reencrypt(SealedColumns.Column col, int batchesSoFar) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = database.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT " + col.rowKey + " FROM " + col.table + " WHERE "
                        + oldFilter(col) + " ORDER BY 1")) {
            ps.setBytes(1, targetBytes());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(rs.getString(1));
                }
            }
        }
        int batches = batchesSoFar;
        for (int from = 0; from < rows.size(); from += BATCH) {
            if (crashAfterBatches >= 0 && batches >= crashAfterBatches) {
                throw new Crash();
            }
            batch(col, rows.subList(from, Math.min(rows.size(), from + BATCH)));
            batches++;
        }
        return batches;
    }

    private void batch(SealedColumns.Column col, List<String> rowKeys) throws SQLException {
        try (Connection c = database.dataSource().getConnection()) {
            c.setAutoCommit(false);
            Array keysArray = c.createArrayOf("text", rowKeys.toArray());
            try (PreparedStatement sel = c.prepareStatement("SELECT " + col.rowKey + ", " + col.column + ", "
                        + col.context + " FROM " + col.table + " WHERE " + col.rowKey + " = ANY(?) AND "
                        + oldFilter(col) + " FOR UPDATE");
                    PreparedStatement upd = c.prepareStatement("UPDATE " + col.table + " SET " + col.column
                        + " = ? WHERE " + col.rowKey + " = ? AND " + col.column + " = ?")) {
                sel.setArray(1, keysArray);
                sel.setBytes(2, targetBytes());
                int n = 0;
                try (ResultSet rs = sel.executeQuery()) {
                    while (rs.next()) {
                        byte[] old = rs.getBytes(2);
                        byte[] plain;
                        try {
                            plain = keys.open(old, rs.getString(3));
                        } catch (SealException e) {
                            unopenable++;
                            LOG.error("data-key rotation: {} of row '{}' does not open ({}); left as it is", col,
                                    rs.getString(1), e.getMessage());
                            continue;
                        }
                        try {
                            upd.setBytes(1, keys.sealWith(target, plain, rs.getString(3)));
                        } finally {
                            Arrays.fill(plain, (byte) 0);
                        }
                        upd.setString(2, rs.getString(1));
                        upd.setBytes(3, old);
                        upd.addBatch();
                        n++;
                    }
                }
                if (n > 0) {
                    upd.executeBatch();
                }
                c.commit();
                reencrypted.addAndGet(n);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }
}
