package io.coffer.authn.internal;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.coffer.api.authn.AccessTokens;
import io.coffer.api.authn.AuthnException;
import io.coffer.api.authn.Identity;
import io.coffer.api.crypto.Sealer;
import io.coffer.api.store.Changes;
import io.coffer.api.store.Database;

/**
 * Conjur-framed access tokens signed with Ed25519 (clients never verify the signature; Conjur's RSA scheme signs at
 * ~1k/s per core, Ed25519 at ~27k/s). The 8-minute TTL is a floor: the Java client assumes it. Verified tokens are
 * cached until they expire, so a warm request costs a map lookup.
 */
@Component(service = AccessTokens.class)
public class TokenService implements AccessTokens {
    static final long TTL_SECONDS = 480;
    static final String ALG = "EdDSA";
    private static final Set<String> CLAIMS = Set.of("iat", "exp", "sub", "cidr", "iss", "aud", "jti");
    private static final Pattern HEADER = Pattern.compile("^\\s*Token\\s+token=\"([^\"]*)\"\\s*$", Pattern.DOTALL);
    private static final int CACHE_LIMIT = 100_000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Encoder URL = Base64.getUrlEncoder();

    private final SigningKeys keys;
    private final Sealer sealer;
    private final Clock clock;
    private final Map<String, Verified> verified = new ConcurrentHashMap<>();
    private final ExecutorService refresher = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "coffer-signing-keys");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean refreshing = new AtomicBoolean();
    private volatile long seenGeneration = -1;

    /** A verified token: who, and the key that signed it (it stands only while that key is the account's). */
    private static final class Verified {
        final Identity identity;
        final String kid;

        Verified(Identity identity, String kid) {
            this.identity = identity;
            this.kid = kid;
        }
    }

    /** Moves when the database changes; absent in unit tests. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Changes changes;

    @Activate
    public TokenService(@Reference Database db, @Reference Sealer sealer) {
        this(new SigningKeys(db), sealer, Clock.systemUTC());
    }

    TokenService(SigningKeys keys, Sealer sealer, Clock clock) {
        this.keys = keys;
        this.sealer = sealer;
        this.clock = clock;
    }

    @Override
    public byte[] issue(String account, String login) {
        SigningKeys.Key key = keys.forAccount(account)
                .orElseThrow(() -> new AuthnException(401, "no signing key for account"));
        long iat = clock.instant().getEpochSecond();
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("alg", ALG);
        header.put("kid", key.kid);
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("iat", iat);
        payload.put("sub", login);
        payload.put("exp", iat + TTL_SECONDS);
        try {
            String p = URL.encodeToString(JSON.writeValueAsBytes(header));
            String b = URL.encodeToString(JSON.writeValueAsBytes(payload));
            byte[] sig = Ed25519Keys.sign(key.privateKey(sealer), (p + "." + b).getBytes(StandardCharsets.US_ASCII));
            Map<String, Object> token = new LinkedHashMap<>();
            token.put("protected", p);
            token.put("payload", b);
            token.put("signature", URL.encodeToString(sig));
            return JSON.writeValueAsBytes(token);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Identity verify(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            throw new AuthnException(401, "Authorization missing");
        }
        Matcher m = HEADER.matcher(authorization);
        if (!m.matches()) {
            throw new AuthnException(401, "Authorization missing");
        }
        String encoded = m.group(1).replaceAll("\\s", "");
        Instant now = clock.instant();
        Changes ch = changes;
        if (ch != null && ch.generation() != seenGeneration) {
            seenGeneration = ch.generation();
            refreshKeys();
        }
        Verified cached = verified.get(encoded);
        if (cached != null) {
            // A cached token stands only while its key is still its account's (accounts can be deleted, re-created).
            if (cached.identity.expiresAt().isAfter(now) && keys.isCurrent(cached.identity.account(), cached.kid)) {
                return cached.identity;
            }
            verified.remove(encoded);
        }
        Verified v = verifyFresh(encoded, now);
        if (verified.size() >= CACHE_LIMIT) {
            evictExpired(now);
        }
        verified.put(encoded, v);
        return v.identity;
    }

    /** One background re-read at a time; requests never wait for it. */
    private void refreshKeys() {
        if (refreshing.compareAndSet(false, true)) {
            try {
                refresher.execute(() -> {
                    try {
                        keys.refresh();
                    } finally {
                        refreshing.set(false);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                refreshing.set(false);
            }
        }
    }

    @Deactivate
    void deactivate() {
        refresher.shutdownNow();
    }

    private Verified verifyFresh(String encoded, Instant now) {
        JsonNode token;
        try {
            token = JSON.readTree(decodeLenient(encoded));
        } catch (Exception e) {
            throw new AuthnException(401, "Malformed authorization token");
        }
        if (token == null || !token.path("protected").isTextual() || !token.path("payload").isTextual()
                || !token.path("signature").isTextual()) {
            throw new AuthnException(401, "Malformed authorization token");
        }
        String p = token.get("protected").asText();
        String b = token.get("payload").asText();
        try {
            JsonNode header = JSON.readTree(Base64.getUrlDecoder().decode(p));
            if (!ALG.equals(header.path("alg").asText())) {
                throw invalid();
            }
            SigningKeys.Key key = keys.forKid(header.path("kid").asText()).orElseThrow(TokenService::invalid);
            byte[] sig = Base64.getUrlDecoder().decode(token.get("signature").asText());
            // Verify over the strings as received, never a re-serialisation.
            if (!Ed25519Keys.verify(key.publicKey, (p + "." + b).getBytes(StandardCharsets.US_ASCII), sig)) {
                throw invalid();
            }
            JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(b));
            for (Iterator<String> it = claims.fieldNames(); it.hasNext();) {
                if (!CLAIMS.contains(it.next())) {
                    throw invalid();
                }
            }
            if (!claims.path("sub").isTextual() || !claims.path("iat").canConvertToLong()) {
                throw invalid();
            }
            long iat = claims.get("iat").asLong();
            long exp = claims.path("exp").canConvertToLong() ? claims.get("exp").asLong() : iat + TTL_SECONDS;
            if (exp <= now.getEpochSecond()) {
                throw invalid();
            }
            if (!keys.isCurrent(key.account, key.kid)) {
                throw invalid();
            }
            return new Verified(new Identity(key.account, claims.get("sub").asText(), Instant.ofEpochSecond(iat),
                    Instant.ofEpochSecond(exp)), key.kid);
        } catch (AuthnException e) {
            throw e;
        } catch (Exception e) {
            throw invalid();
        }
    }

    private static AuthnException invalid() {
        return new AuthnException(401, "Unauthorized: Invalid token");
    }

    /** Clients send standard base64 of the token JSON; accept the URL-safe alphabet and missing padding too. */
    static byte[] decodeLenient(String s) {
        String t = s.replace('-', '+').replace('_', '/');
        int pad = (4 - t.length() % 4) % 4;
        return Base64.getDecoder().decode(t + "===".substring(0, pad));
    }

    private void evictExpired(Instant now) {
        verified.values().removeIf(v -> !v.identity.expiresAt().isAfter(now));
        if (verified.size() >= CACHE_LIMIT) {
            verified.clear();
        }
    }
}
