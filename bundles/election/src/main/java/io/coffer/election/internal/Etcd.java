package io.coffer.election.internal;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.NoSuchLeaseException;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;

/**
 * The few etcd calls election makes, each bounded by a timeout (a call never hangs a decision loop). Failures come
 * out as {@link EtcdException}, never as a half-done state.
 */
final class Etcd implements AutoCloseable {
    /** etcd could not be reached or refused the call. */
    static final class EtcdException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        EtcdException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Client client;
    private final long timeoutMs;

    private Etcd(Client client, long timeoutMs) {
        this.client = client;
        this.timeoutMs = timeoutMs;
    }

    /**
     * @param endpoints etcd client URLs ({@code https://} needs {@code ca}, {@code cert} and {@code key})
     * @param user etcd user, or {@code null} when etcd runs without authentication
     * @param password the user's password (not kept beyond the client)
     */
    static Etcd connect(List<String> endpoints, String user, byte[] password, File ca, File cert, File key,
            long timeoutMs) {
        ClientBuilder b = Client.builder().endpoints(endpoints.toArray(new String[0]))
                .connectTimeout(Duration.ofMillis(timeoutMs))
                .keepaliveTime(Duration.ofSeconds(2)).keepaliveTimeout(Duration.ofSeconds(2))
                .retryMaxDuration(Duration.ofMillis(timeoutMs));
        if (user != null && !user.isEmpty()) {
            b.user(bytes(user)).password(ByteSequence.from(password));
        }
        if (ca != null) {
            try {
                // The members' certificates name localhost and 127.0.0.1; the authority is checked against them.
                b.authority("localhost").sslContext(s -> s.trustManager(ca).keyManager(cert, key));
            } catch (javax.net.ssl.SSLException e) {
                throw new IllegalArgumentException("etcd TLS files unusable: " + e.getMessage(), e);
            }
        }
        return new Etcd(b.build(), timeoutMs);
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    static String text(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    private <T> T await(CompletableFuture<T> f, String what) {
        return await(f, what, timeoutMs);
    }

    private static <T> T await(CompletableFuture<T> f, String what, long timeout) {
        try {
            return f.get(timeout, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EtcdException(what + ": interrupted", e);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new EtcdException(what + ": no answer from etcd within " + timeout + " ms", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new EtcdException(what + ": " + c.getMessage(), c);
        }
    }

    Optional<KeyValue> get(String key) {
        List<KeyValue> kvs = await(client.getKVClient().get(bytes(key)), "get " + key).getKvs();
        return kvs.isEmpty() ? Optional.empty() : Optional.of(kvs.get(0));
    }

    List<KeyValue> list(String prefix) {
        return await(client.getKVClient().get(bytes(prefix), GetOption.builder().isPrefix(true).build()),
                "list " + prefix).getKvs();
    }

    void put(String key, String value, long lease) {
        await(client.getKVClient().put(bytes(key), bytes(value), PutOption.builder().withLeaseId(lease).build()),
                "put " + key);
    }

    /** @return a new lease's id */
    long grant(long ttlSeconds) {
        return await(client.getLeaseClient().grant(ttlSeconds), "lease grant").getID();
    }

    /**
     * One renewal, answered within {@code timeout} ms.
     *
     * @return the lease's renewed TTL in seconds; 0 when etcd no longer has the lease (it expired or was revoked)
     */
    long keepAliveOnce(long lease, long timeout) {
        try {
            return Math.max(0, await(client.getLeaseClient().keepAliveOnce(lease), "lease keep-alive", timeout).getTTL());
        } catch (EtcdException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                // jetcd reports it as NoSuchLeaseException or as the server's error text, depending on the path.
                if (t instanceof NoSuchLeaseException || String.valueOf(t.getMessage()).contains("lease not found")) {
                    return 0;
                }
            }
            throw e;
        }
    }

    void revoke(long lease, long timeout) {
        await(client.getLeaseClient().revoke(lease), "lease revoke", timeout);
    }

    TxnResponse txn(Cmp[] conditions, Op... then) {
        return await(client.getKVClient().txn().If(conditions).Then(then).commit(), "txn");
    }

    /** Calls {@code onChange} on every change of {@code key} (and on watch errors, so the caller looks again). */
    Watch.Watcher watch(String key, Runnable onChange) {
        return client.getWatchClient().watch(bytes(key), WatchOption.DEFAULT,
                Watch.listener(r -> onChange.run(), t -> onChange.run()));
    }

    /**
     * @param endpoint one of the client's endpoints (this node's own member)
     * @return the name of the etcd member leading the Raft group as that member sees it (its id in hex when no
     *         member by that id is listed)
     */
    String raftLeader(String endpoint) {
        long id = await(client.getMaintenanceClient().statusMember(endpoint), "status").getLeader();
        for (io.etcd.jetcd.cluster.Member m : await(client.getClusterClient().listMember(), "member list")
                .getMembers()) {
            if (m.getId() == id) {
                return m.getName();
            }
        }
        return Long.toHexString(id);
    }

    @Override
    public void close() {
        client.close();
    }
}
