package io.coffer.election.internal;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease under the leader key, kept alive on its own thread every sixth of the TTL, and the self-fence: the node
 * counts as holding the leadership only until {@code sent + TTL - margin}, where {@code sent} is when the last
 * acknowledged renewal (or the grant) was <em>sent</em>. etcd can't expire the lease before {@code sent + TTL} (it
 * received the request later than that), so a Leader that can't renew stops taking writes at least {@code margin}
 * before another node can hold the key — whatever the reason (etcd partitioned away, this JVM starved). A renewal
 * that later succeeds proves the lease (and so the key) survived, and the node holds again.
 */
final class LeaderLease {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderLease.class);

    private final Etcd etcd;
    private final long ttlMs;
    private final long marginMs;
    private final LongSupplier clock;
    private final ScheduledExecutorService keeper = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "coffer-election-keepalive");
        t.setDaemon(true);
        return t;
    });
    private ScheduledFuture<?> renewing;
    private volatile long leaseId;
    private volatile long epoch;
    private volatile long validUntil;
    private volatile boolean gone;
    private volatile boolean failing;
    private volatile Runnable onGone = () -> { };
    private final java.util.concurrent.atomic.AtomicLong renewals = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong failures = new java.util.concurrent.atomic.AtomicLong();

    /**
     * @param ttlSeconds the lease TTL
     * @param marginMs how long before the earliest possible expiry the node stops counting as the holder
     */
    LeaderLease(Etcd etcd, long ttlSeconds, long marginMs, LongSupplier nanoClock) {
        this.etcd = etcd;
        this.ttlMs = ttlSeconds * 1000;
        this.marginMs = marginMs;
        this.clock = nanoClock;
    }

    /** Called (on the keep-alive thread) once etcd says the lease is gone: the leadership is over for good. */
    void onGone(Runnable r) {
        this.onGone = r;
    }

    /**
     * Starts holding: the key was created under {@code lease} in the txn whose revision is {@code epoch}.
     *
     * @param grantSentNanos when the lease grant was sent
     */
    synchronized void hold(long lease, long epoch, long grantSentNanos) {
        stopRenewing();
        this.leaseId = lease;
        this.epoch = epoch;
        this.gone = false;
        this.validUntil = grantSentNanos + (ttlMs - marginMs) * 1_000_000;
        // A dead Leader's key lapses TTL after its last renewal reached etcd: renewing every TTL/6 (not TTL/3) puts
        // that 0-0.5 s before the death instead of 0-1 s, a quarter-second off the median failover for two cheap
        // keep-alives a second; each still may take TTL/3 to answer.
        long period = Math.max(100, ttlMs / 6);
        renewing = keeper.scheduleAtFixedRate(this::renew, period, period, TimeUnit.MILLISECONDS);
    }

    long leaseId() {
        return leaseId;
    }

    /** @return the epoch of the leadership held, or last held; 0 when never held */
    long epoch() {
        return epoch;
    }

    /** @return true while the lease is held and can't have expired yet */
    boolean holds() {
        return leaseId != 0 && !gone && clock.getAsLong() - validUntil < 0;
    }

    void renew() {
        long lease = leaseId;
        if (lease == 0 || gone) {
            return;
        }
        long sent = clock.getAsLong();
        try {
            long ttl = etcd.keepAliveOnce(lease, Math.max(100, ttlMs / 3));
            if (ttl <= 0) {
                failures.incrementAndGet();
                gone = true;
                LOG.warn("the leader lease is gone (expired or revoked): this node no longer leads");
                stopRenewing();
                onGone.run();
                return;
            }
            validUntil = sent + (Math.min(ttl * 1000, ttlMs) - marginMs) * 1_000_000;
            renewals.incrementAndGet();
            if (failing) {
                failing = false;
                LOG.info("leader lease renewed again; the lease never lapsed, so this node still leads");
            }
        } catch (RuntimeException e) {
            failures.incrementAndGet();
            if (!failing) {
                failing = true;
                LOG.warn("leader lease renewal failed ({}); writes stop {} ms after the last renewal unless one "
                        + "succeeds", e.getMessage(), ttlMs - marginMs);
            }
        }
    }

    private synchronized void stopRenewing() {
        if (renewing != null) {
            renewing.cancel(false);
            renewing = null;
        }
    }

    /** Stops holding; revokes the lease (deleting the key at once) when {@code revoke} and etcd answers in time. */
    void release(boolean revoke) {
        long lease = leaseId;
        stopRenewing();
        gone = true;
        if (revoke && lease != 0) {
            try {
                etcd.revoke(lease, 1000);
            } catch (RuntimeException e) {
                LOG.info("leader lease not revoked ({}): the key lapses within its TTL", e.getMessage());
            }
        }
    }

    /** @return leader lease renewals etcd acknowledged since start */
    long renewals() {
        return renewals.get();
    }

    /** @return leader lease renewals that failed (no answer, or the lease gone) since start */
    long renewalFailures() {
        return failures.get();
    }

    void close() {
        keeper.shutdownNow();
    }
}
