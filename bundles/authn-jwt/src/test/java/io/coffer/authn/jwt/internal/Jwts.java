package io.coffer.authn.jwt.internal;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Date;
import java.util.Map;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

/** Test issuers: RSA keys made by the JDK, their JWKs, and tokens they sign. */
final class Jwts {
    final String kid;
    final KeyPair pair;

    Jwts(String kid, int bits) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(bits);
        this.kid = kid;
        this.pair = g.generateKeyPair();
    }

    /** @return the public JWK ({@code use=sig}, with {@code kid} unless null) */
    RSAKey jwk() {
        RSAKey.Builder b = new RSAKey.Builder((RSAPublicKey) pair.getPublic()).keyUse(KeyUse.SIGNATURE);
        return (kid == null ? b : b.keyID(kid)).build();
    }

    static JWKSet set(Jwts... issuers) {
        return new JWKSet(java.util.Arrays.stream(issuers).map(i -> (com.nimbusds.jose.jwk.JWK) i.jwk())
                .collect(java.util.stream.Collectors.toList()));
    }

    /** @return {@code {"type":"jwks","value":{"keys":[...]}}}, the {@code public-keys} variable's format */
    static String publicKeys(Jwts... issuers) {
        return "{\"type\":\"jwks\",\"value\":" + set(issuers).toString() + "}";
    }

    /** Claims valid for five minutes from {@code iss}, plus {@code extra}. */
    static JWTClaimsSet.Builder claims(String iss, Map<String, Object> extra) {
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().issuer(iss).issueTime(new Date())
                .expirationTime(Date.from(Instant.now().plusSeconds(300)));
        extra.forEach(b::claim);
        return b;
    }

    String sign(JWSAlgorithm alg, JWTClaimsSet claims) throws Exception {
        JWSHeader.Builder h = new JWSHeader.Builder(alg).type(JOSEObjectType.JWT);
        SignedJWT jwt = new SignedJWT((kid == null ? h : h.keyID(kid)).build(), claims);
        jwt.sign(new RSASSASigner((RSAPrivateKey) pair.getPrivate()));
        return jwt.serialize();
    }

    /** Signs with the JDK directly, for keys Nimbus refuses to sign with (under 2048 bits). */
    String signWithJdk(JWTClaimsSet claims) throws Exception {
        java.util.Base64.Encoder b64 = java.util.Base64.getUrlEncoder().withoutPadding();
        String input = b64.encodeToString(("{\"alg\":\"RS256\",\"kid\":\"" + kid + "\"}").getBytes())
                + "." + b64.encodeToString(claims.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        java.security.Signature s = java.security.Signature.getInstance("SHA256withRSA");
        s.initSign(pair.getPrivate());
        s.update(input.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return input + "." + b64.encodeToString(s.sign());
    }

    String sign(JWTClaimsSet claims) throws Exception {
        return sign(JWSAlgorithm.RS256, claims);
    }
}
