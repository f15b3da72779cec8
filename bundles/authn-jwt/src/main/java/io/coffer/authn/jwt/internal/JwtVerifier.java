package io.coffer.authn.jwt.internal;

import java.io.IOException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

/**
 * Checks a compact JWS the way Conjur's authn-jwt does, with Nimbus JOSE+JWT doing the cryptography: RS256/384/512
 * only (so {@code none}, HMAC and EC tokens can't be passed off with an RSA public key), a signature by a matching
 * RSA key of at least 2048 bits, then {@code exp} (mandatory), {@code nbf}, and {@code iss}/{@code aud} when the
 * service configures them. Claims are looked at only after the signature verified.
 */
final class JwtVerifier {
    static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512);
    static final int MIN_RSA_BITS = 2048;
    /** Keys tried for one token without a {@code kid}; a JWKS rarely has more. */
    private static final int MAX_CANDIDATES = 20;

    /** Where the service's keys come from. */
    interface KeySource {
        /**
         * @param unknownKid the token names a key the last answer lacked: a fetching source may refresh
         * @return the current keys
         * @throws IOException when no keys can be had
         */
        JWKSet keys(boolean unknownKid) throws IOException;
    }

    /** The token is not accepted. The reason names no claim value and goes to the log only. */
    static final class Rejected extends Exception {
        private static final long serialVersionUID = 1L;
        final boolean expired;

        Rejected(String reason, boolean expired) {
            super(reason);
            this.expired = expired;
        }

        Rejected(String reason) {
            this(reason, false);
        }
    }

    private final Clock clock;
    private final long skewSeconds;

    JwtVerifier(Clock clock, long skewSeconds) {
        this.clock = clock;
        this.skewSeconds = skewSeconds;
    }

    /**
     * @param compact the token, {@code b64.b64.b64}
     * @param cfg the service's configuration
     * @param keys its signing keys
     * @return the verified claims, JSON-shaped
     * @throws Rejected when anything is wrong; {@link Rejected#expired} for an expired but otherwise valid token
     */
    Map<String, Object> verify(String compact, ServiceConfig cfg, KeySource keys) throws Rejected {
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(compact);
        } catch (ParseException e) {
            throw new Rejected("CONJ00035E Failed to decode token (3rdPartyError ='not a signed JWT')");
        }
        JWSHeader header = jwt.getHeader();
        if (!ALGORITHMS.contains(header.getAlgorithm())) {
            throw new Rejected("CONJ00035E Failed to decode token (3rdPartyError ='algorithm " + header.getAlgorithm()
                    + " is not accepted')");
        }
        verifySignature(jwt, candidates(header, keys));
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new Rejected("CONJ00035E Failed to decode token (3rdPartyError ='claims are not a JSON object')");
        }
        checkTimes(claims);
        if (cfg.issuer != null && !cfg.issuer.equals(claims.getIssuer())) {
            throw new Rejected("CONJ00015E Failed to verify token (3rdPartyError ='iss does not match the issuer')");
        }
        if (cfg.audience != null && (claims.getAudience() == null || !claims.getAudience().contains(cfg.audience))) {
            throw new Rejected("CONJ00015E Failed to verify token (3rdPartyError ='aud does not name the audience')");
        }
        return claims.toJSONObject();
    }

    private static List<JWK> candidates(JWSHeader header, KeySource keys) throws Rejected {
        JWKSelector selector = new JWKSelector(JWKMatcher.forJWSHeader(header));
        try {
            List<JWK> found = selector.select(keys.keys(false));
            if (found.isEmpty() && header.getKeyID() != null) {
                found = selector.select(keys.keys(true));
            }
            if (found.isEmpty()) {
                throw new Rejected("CONJ00015E Failed to verify token (3rdPartyError ='no signing key matches the "
                        + "token header')");
            }
            return found.size() > MAX_CANDIDATES ? found.subList(0, MAX_CANDIDATES) : found;
        } catch (IOException e) {
            throw new Rejected("CONJ00087E Failed to fetch JWKS. Reason: '" + e.getMessage() + "'");
        }
    }

    private static void verifySignature(SignedJWT jwt, List<JWK> candidates) throws Rejected {
        for (JWK k : candidates) {
            if (!(k instanceof RSAKey) || k.size() < MIN_RSA_BITS) {
                continue;
            }
            try {
                // The verifier also refuses unknown "crit" header parameters.
                if (jwt.verify(new RSASSAVerifier((RSAKey) k))) {
                    return;
                }
            } catch (JOSEException e) {
                // A key that can't verify this token is one more that doesn't match; the next may.
                continue;
            }
        }
        throw new Rejected("CONJ00015E Failed to verify token (3rdPartyError ='signature verification failed')");
    }

    private void checkTimes(JWTClaimsSet claims) throws Rejected {
        Instant now = clock.instant();
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            throw new Rejected("CONJ00091E Failed to validate token: mandatory claim 'exp' is missing.");
        }
        if (!exp.toInstant().plusSeconds(skewSeconds).isAfter(now)) {
            throw new Rejected("CONJ00016E Token expired", true);
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && nbf.toInstant().minusSeconds(skewSeconds).isAfter(now)) {
            throw new Rejected("CONJ00015E Failed to verify token (3rdPartyError ='nbf is in the future')");
        }
    }
}
