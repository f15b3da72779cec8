package io.coffer.crypto.internal;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** Opening one sealed 64-byte secret value (AES-256-GCM, AAD = what it belongs to plus the key version). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DecryptBench {
    private SecretKey key;
    private byte[] sealed;
    private final String context = "secret:demo:variable:bench/v0:1";

    @Setup
    public void setUp() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        key = new SecretKeySpec(k, "AES");
        sealed = Aead.seal(key, 1, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                .getBytes(StandardCharsets.US_ASCII), context);
    }

    @Benchmark
    public byte[] open64() {
        return Aead.open(key, sealed, context);
    }
}
