package io.coffer.authn.jwt.internal;

import java.io.IOException;
import java.net.URI;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.nimbusds.jose.jwk.JWKSet;

/**
 * JWKS per source ({@code jwks-uri} and its {@code ca-cert}), kept for a TTL. A token naming a key the set lacks may
 * trigger a fetch (the issuer rotated its keys), but never more often than the minimum interval per source, and one
 * fetch at a time per source: requests can't make the node fetch per request. When a fetch fails, the keys already
 * known stay in use and the next attempt waits for the interval.
 */
final class JwksCache {
    private static final Logger LOG = LoggerFactory.getLogger(JwksCache.class);
    private static final int MAX_SOURCES = 1_000;

    /** One source's keys and fetch history; guarded by its own monitor. */
    private static final class Source {
        JWKSet keys;
        long fetchedAt;
        boolean attempted;
        long attemptedAt;
        String failure;
    }

    private final JwksClient client;
    private final long ttlMillis;
    private final long minIntervalMillis;
    private final Clock clock;
    private final Map<String, Source> sources = new ConcurrentHashMap<>();

    JwksCache(JwksClient client, long ttlMillis, long minIntervalMillis, Clock clock) {
        this.client = client;
        this.ttlMillis = ttlMillis;
        this.minIntervalMillis = minIntervalMillis;
        this.clock = clock;
    }

    /**
     * @param uri the {@code jwks-uri}
     * @param caCerts its trust anchors (empty: the JDK's)
     * @param caPem the anchors' PEM, part of the cache key
     * @param unknownKid whether the caller holds a token whose key the cached set lacks
     * @return the keys
     * @throws IOException when no keys were ever fetched from this source (the message is the last failure)
     */
    JWKSet keys(URI uri, List<X509Certificate> caCerts, String caPem, boolean unknownKid) throws IOException {
        String key = uri + "\n" + caPem;
        Source s = sources.get(key);
        if (s == null) {
            if (sources.size() >= MAX_SOURCES) {
                sources.clear();
            }
            s = sources.computeIfAbsent(key, k -> new Source());
        }
        synchronized (s) {
            long now = clock.millis();
            if (s.keys != null && !unknownKid && now - s.fetchedAt < ttlMillis) {
                return s.keys;
            }
            if (s.attempted && now - s.attemptedAt < minIntervalMillis) {
                if (s.keys != null) {
                    return s.keys;
                }
                throw new IOException(s.failure);
            }
            s.attempted = true;
            s.attemptedAt = now;
            try {
                s.keys = client.fetch(uri, caCerts);
                s.fetchedAt = now;
                s.failure = null;
                return s.keys;
            } catch (IOException | RuntimeException e) {
                s.failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                LOG.warn("fetching the JWKS from {} failed: {}{}", printable(uri), s.failure,
                        s.keys == null ? "" : "; the keys fetched before stay in use");
                if (s.keys != null) {
                    return s.keys;
                }
                throw new IOException(s.failure, e);
            }
        }
    }

    /** @return the URI without user info or query, which might carry credentials */
    static String printable(URI uri) {
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }
}
