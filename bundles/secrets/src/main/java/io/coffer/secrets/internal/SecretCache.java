package io.coffer.secrets.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.store.Changes;
import io.coffer.api.store.Database;

/**
 * Sealed secret versions kept in memory between changes, so a warm read is a map lookup and a decryption: values
 * stay sealed here (opened per request), and an entry computed while the data changed is not kept. One cache serves
 * single and batch reads alike.
 */
@Component(service = SecretCache.class)
public class SecretCache {
    /** A stored version: sealed value and the variable's MIME type annotation. */
    static final class Entry {
        final int version;
        final byte[] sealed;
        final String mimeType;

        Entry(int version, byte[] sealed, String mimeType) {
            this.version = version;
            this.sealed = sealed;
            this.mimeType = mimeType;
        }
    }

    static final int LIMIT = 100_000;
    private static final Entry NONE = new Entry(0, null, null);

    private final Database db;
    private final Changes changes;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private volatile long generation = -1;

    @Activate
    public SecretCache(@Reference Database db, @Reference Changes changes) {
        this.db = db;
        this.changes = changes;
    }

    /** @return the version ({@code null} = latest), or {@code null} when there is none */
    Entry get(String resourceId, Integer version) throws SQLException {
        long gen = changes.generation();
        if (gen != generation) {
            entries.clear();
            generation = gen;
        }
        String key = resourceId + "#" + (version == null ? "latest" : version);
        Entry e = entries.get(key);
        if (e == null) {
            e = load(resourceId, version);
            if (changes.generation() == gen && generation == gen) {
                if (entries.size() >= LIMIT) {
                    entries.clear();
                }
                entries.put(key, e);
            }
        }
        return e == NONE ? null : e;
    }

    private Entry load(String resourceId, Integer version) throws SQLException {
        String sql = "SELECT s.version, s.value, (SELECT value FROM annotations a WHERE a.resource_id = s.resource_id "
                + "AND a.name = 'conjur/mime_type') FROM secrets s WHERE s.resource_id = ? "
                + (version == null ? "ORDER BY s.version DESC LIMIT 1" : "AND s.version = ?");
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, resourceId);
            if (version != null) {
                ps.setInt(2, version);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Entry(rs.getInt(1), rs.getBytes(2), rs.getString(3)) : NONE;
            }
        }
    }
}
