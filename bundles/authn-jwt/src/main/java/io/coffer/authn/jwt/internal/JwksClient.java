package io.coffer.authn.jwt.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

import com.nimbusds.jose.jwk.JWKSet;

/**
 * Fetches a JWKS over HTTPS only: the service's {@code ca-cert} is the only trust anchor when set (else the JDK's
 * trust store), the host name is verified, redirects are not followed, and connect, each read and the whole body are
 * bounded in time and size, so a slow or huge answer can't hold a request thread or the heap.
 */
class JwksClient {
    private final int timeoutMillis;
    private final int maxBytes;

    JwksClient(int timeoutMillis, int maxBytes) {
        this.timeoutMillis = timeoutMillis;
        this.maxBytes = maxBytes;
    }

    /**
     * @param uri an {@code https} URI
     * @param caCerts trust anchors; empty for the JDK's trust store
     * @return the public keys of the JWKS
     * @throws IOException with a reason safe to show in a status answer (no response body)
     */
    JWKSet fetch(URI uri, List<X509Certificate> caCerts) throws IOException {
        if (!"https".equalsIgnoreCase(uri.getScheme())) {
            throw new IOException("only https is allowed");
        }
        HttpsURLConnection c = (HttpsURLConnection) uri.toURL().openConnection();
        try {
            if (!caCerts.isEmpty()) {
                c.setSSLSocketFactory(socketFactory(caCerts));
            }
            c.setConnectTimeout(timeoutMillis);
            c.setReadTimeout(timeoutMillis);
            c.setInstanceFollowRedirects(false);
            c.setUseCaches(false);
            c.setRequestProperty("Accept", "application/json");
            int status = c.getResponseCode();
            if (status != 200) {
                throw new IOException("HTTP " + status);
            }
            if (c.getContentLengthLong() > maxBytes) {
                throw new IOException("the JWKS is larger than " + maxBytes + " bytes");
            }
            String body = read(c.getInputStream());
            try {
                return JWKSet.parse(body).toPublicJWKSet();
            } catch (java.text.ParseException e) {
                throw new IOException("the answer is not a JWKS");
            }
        } finally {
            c.disconnect();
        }
    }

    /** Reads at most {@code maxBytes}, and gives up when the whole body takes longer than twice the timeout. */
    private String read(InputStream in) throws IOException {
        long deadline = System.nanoTime() + 2L * timeoutMillis * 1_000_000L;
        try (in) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                if (out.size() > maxBytes) {
                    throw new IOException("the JWKS is larger than " + maxBytes + " bytes");
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("reading the JWKS took too long");
                }
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    private static SSLSocketFactory socketFactory(List<X509Certificate> caCerts) throws IOException {
        try {
            KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
            anchors.load(null, null);
            for (int i = 0; i < caCerts.size(); i++) {
                anchors.setCertificateEntry("ca-" + i, caCerts.get(i));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(anchors);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IOException("ca-cert can't be used as a trust anchor", e);
        }
    }
}
