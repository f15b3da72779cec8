package io.coffer.store.internal;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.store.OutcomeUnknownException;

/**
 * Bounds how long a write's answer waits for its commit (architecture §5, decision 56). A commit on the Leader returns
 * only once the synchronous Standby has flushed it; while that Standby is away it would wait forever. A transaction
 * that appended a change-log row commits on a separate thread; when the bound passes, the caller gets
 * {@link OutcomeUnknownException} with the write id and the commit keeps waiting, never cancelled (PostgreSQL
 * commits a cancelled synchronous wait locally, which would turn "unknown" into "committed, unreplicated"). The
 * connection stays with that commit until it returns; the caller's rollback and close are deferred to it.
 * Transactions without a change-log row (reads, the heartbeat, audit rows) commit on the caller's thread as before.
 */
final class BoundedCommits {
    private static final Logger LOG = LoggerFactory.getLogger(BoundedCommits.class);

    /** What {@link DbChangeLog} tells the connection it wrote in, reached with {@link Connection#unwrap}. */
    interface WriteIds {
        void wrote(UUID writeId);
    }

    private final DataSource pool;
    private final LongSupplier boundMs;
    private final java.util.Set<UUID> waiting = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final AtomicInteger threads = new AtomicInteger();
    private final ExecutorService committers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "coffer-commit-" + threads.incrementAndGet());
        t.setDaemon(true);
        return t;
    });
    private final DataSource bounded;

    BoundedCommits(DataSource pool, LongSupplier boundMs) {
        this.pool = pool;
        this.boundMs = boundMs;
        this.bounded = (DataSource) Proxy.newProxyInstance(BoundedCommits.class.getClassLoader(),
                new Class<?>[] {DataSource.class}, (proxy, m, args) -> {
                    if (m.getName().equals("getConnection")) {
                        return wrap((Connection) call(m, pool, args));
                    }
                    if (m.getName().equals("unwrap") && args[0] == DataSource.class) {
                        return pool;
                    }
                    return call(m, pool, args);
                });
    }

    /** @return the pool, with bounded commits */
    DataSource dataSource() {
        return bounded;
    }

    /** @return commits whose callers were answered {@code outcome_unknown} and that still wait */
    int waiting() {
        return waiting.size();
    }

    /** @return whether that write was answered {@code outcome_unknown} and its commit still waits */
    boolean waiting(UUID writeId) {
        return waiting.contains(writeId);
    }

    void close() {
        committers.shutdown();
    }

    private Connection wrap(Connection real) {
        return (Connection) Proxy.newProxyInstance(BoundedCommits.class.getClassLoader(),
                new Class<?>[] {Connection.class}, new Handler(real));
    }

    private static Object call(Method m, Object target, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private final class Handler implements InvocationHandler, WriteIds {
        private final Connection real;
        private UUID writeId;
        private CompletableFuture<Void> pending;

        Handler(Connection real) {
            this.real = real;
        }

        @Override
        public void wrote(UUID id) {
            writeId = id;
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] args) throws Throwable {
            String name = m.getName();
            if (pending != null) {
                return detached(name);
            }
            switch (name) {
                case "unwrap":
                    return args[0] == WriteIds.class ? this : call(m, real, args);
                case "isWrapperFor":
                    return args[0] == WriteIds.class || (boolean) call(m, real, args);
                case "commit":
                    commit();
                    return null;
                case "rollback":
                    if (args == null) {
                        writeId = null;
                    }
                    return call(m, real, args);
                case "close":
                    writeId = null;
                    return call(m, real, args);
                default:
                    return call(m, real, args);
            }
        }

        private void commit() throws SQLException {
            UUID id = writeId;
            writeId = null;
            if (id == null) {
                real.commit();
                return;
            }
            CompletableFuture<Void> f = CompletableFuture.runAsync(() -> {
                try {
                    real.commit();
                } catch (SQLException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }, committers);
            long bound = boundMs.getAsLong();
            try {
                f.get(bound, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw detach(f, id, bound);
            } catch (InterruptedException e) {
                // The commit goes on; the caller can't know how it ends.
                Thread.currentThread().interrupt();
                throw detach(f, id, bound);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause() != null && e.getCause().getCause() instanceof SQLException
                        ? e.getCause().getCause() : e.getCause();
                if (cause instanceof SQLException) {
                    throw (SQLException) cause;
                }
                throw new SQLException("commit failed", cause);
            }
        }

        private OutcomeUnknownException detach(CompletableFuture<Void> f, UUID id, long bound) {
            pending = f;
            waiting.add(id);
            f.whenComplete((ok, failed) -> {
                waiting.remove(id);
                if (failed == null) {
                    LOG.warn("write {} committed after its caller was answered outcome_unknown ({} ms)", id, bound);
                } else {
                    LOG.warn("write {} was answered outcome_unknown, then its commit failed: {}", id,
                            failed.getCause() == null ? failed : failed.getCause().getMessage());
                }
            });
            return new OutcomeUnknownException(id, bound);
        }

        /** The commit still owns the connection: the caller's cleanup happens when it returns. */
        private Object detached(String name) throws SQLException {
            switch (name) {
                case "close":
                    pending.whenComplete((ok, failed) -> {
                        try {
                            real.close();
                        } catch (SQLException e) {
                            LOG.warn("a connection could not be returned after a late commit: {}", e.getMessage());
                        }
                    });
                    return null;
                case "rollback":
                    return null;
                case "isClosed":
                    return true;
                case "hashCode":
                    return System.identityHashCode(this);
                case "equals":
                    return false;
                case "toString":
                    return "connection (commit waiting for the synchronous Standby)";
                default:
                    throw new SQLException("this connection's commit still waits for the synchronous Standby",
                            "55000");
            }
        }
    }
}
