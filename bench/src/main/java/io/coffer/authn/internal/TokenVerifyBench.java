package io.coffer.authn.internal;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A fresh access token's cost on the read path: the Ed25519 signature over {@code protected.payload} as received,
 * and parsing the claims, as {@code TokenService} does before it caches the result for the token's lifetime.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class TokenVerifyBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private Ed25519PublicKeyParameters publicKey;
    private byte[] signed;
    private byte[] signature;
    private String payload;

    @Setup
    public void setUp() {
        Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(new SecureRandom());
        publicKey = key.generatePublicKey();
        Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
        String header = url.encodeToString("{\"alg\":\"EdDSA\",\"kid\":\"0123456789abcdef\"}"
                .getBytes(StandardCharsets.UTF_8));
        payload = url.encodeToString(("{\"sub\":\"host/bench/app\",\"iat\":" + (System.currentTimeMillis() / 1000)
                + "}").getBytes(StandardCharsets.UTF_8));
        signed = (header + "." + payload).getBytes(StandardCharsets.US_ASCII);
        signature = Ed25519Keys.sign(key, signed);
    }

    @Benchmark
    public boolean signature() {
        return Ed25519Keys.verify(publicKey, signed, signature);
    }

    @Benchmark
    public JsonNode signatureAndClaims() throws Exception {
        if (!Ed25519Keys.verify(publicKey, signed, signature)) {
            throw new IllegalStateException("bad signature");
        }
        return JSON.readTree(Base64.getUrlDecoder().decode(payload));
    }
}
