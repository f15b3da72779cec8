package io.coffer.store.internal;

import java.lang.reflect.Field;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import io.coffer.api.rbac.Access;
import io.coffer.api.store.Changes;
import io.coffer.api.store.Database;
import io.coffer.api.store.Position;

/**
 * The RBAC check on the warm read path: {@code DbPermissions.check} answered from memory (the generation hasn't
 * moved). The cold path is one PostgreSQL query and is measured end to end by {@code ./coffer bench}; here the
 * cache is filled directly, so the benchmark needs no database.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class PermissionCheckBench {
    private DbPermissions permissions;

    @Setup
    @SuppressWarnings("unchecked")
    public void setUp() throws Exception {
        Database noDatabase = new Database() {
            @Override
            public javax.sql.DataSource dataSource() {
                throw new IllegalStateException("the warm path must not reach the database");
            }

            @Override
            public String schemaVersion() {
                return "bench";
            }
        };
        Changes still = new Changes() {
            @Override
            public long generation() {
                return 7;
            }

            @Override
            public void invalidate() {
            }

            @Override
            public Position applied() {
                return null;
            }
        };
        permissions = new DbPermissions(noDatabase, still);
        Field cache = DbPermissions.class.getDeclaredField("cache");
        cache.setAccessible(true);
        Field gen = DbPermissions.class.getDeclaredField("cacheGeneration");
        gen.setAccessible(true);
        gen.setLong(permissions, 7);
        ((Map<String, Access>) cache.get(permissions)).put("demo:host:bench/app\ndemo:variable:bench/v0\nexecute",
                Access.ALLOWED);
    }

    @Benchmark
    public Access warmCheck() {
        return permissions.check("demo:host:bench/app", "demo:variable:bench/v0", "execute");
    }
}
