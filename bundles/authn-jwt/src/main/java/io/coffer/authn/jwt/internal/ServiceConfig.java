package io.coffer.authn.jwt.internal;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWKSet;

/**
 * One JWT authenticator service as its policy {@code conjur/authn-jwt/<service_id>} configures it: the webservice,
 * its variables' current values, and whether the database enables it. Immutable. A configuration that can't be
 * used keeps the first problem found as {@link #error()} (Conjur's message and code), which fails authentication
 * with 401 and the status check with 500.
 */
final class ServiceConfig {
    /** The variables Conjur reads under the service's policy. */
    static final List<String> VARIABLES = List.of("jwks-uri", "public-keys", "provider-uri", "ca-cert", "issuer",
            "audience", "token-app-property", "identity-path", "enforced-claims", "claim-aliases", "token-ttl");
    private static final ObjectMapper JSON = new ObjectMapper();

    final String account;
    final String serviceId;
    /** {@code acct:webservice:conjur/authn-jwt/<service_id>} */
    final String webserviceId;
    final boolean exists;
    final boolean enabledInDb;
    final URI jwksUri;
    final List<X509Certificate> caCerts;
    /** What identifies {@link #caCerts} in cache keys: the PEM text, or empty. */
    final String caPem;
    final JWKSet publicKeys;
    final String issuer;
    final String audience;
    final String tokenAppProperty;
    final String identityPath;
    final List<String> enforcedClaims;
    final Map<String, String> aliases;
    /** Parsed and checked, but not applied: {@code AccessTokens.issue} has no per-call lifetime. */
    final Duration tokenTtl;
    private final String error;

    private ServiceConfig(Builder b) {
        account = b.account;
        serviceId = b.serviceId;
        webserviceId = webserviceId(b.account, b.serviceId);
        exists = b.exists;
        enabledInDb = b.enabledInDb;
        jwksUri = b.jwksUri;
        caCerts = b.caCerts;
        caPem = b.caPem;
        publicKeys = b.publicKeys;
        issuer = b.issuer;
        audience = b.audience;
        tokenAppProperty = b.tokenAppProperty;
        identityPath = b.identityPath;
        enforcedClaims = b.enforcedClaims;
        aliases = b.aliases;
        tokenTtl = b.tokenTtl;
        error = b.error;
    }

    /** @return {@code acct:webservice:conjur/authn-jwt/<service_id>} */
    static String webserviceId(String account, String serviceId) {
        return account + ":webservice:conjur/authn-jwt/" + serviceId;
    }

    /** @return the full id of one of the service's variables */
    static String variableId(String account, String serviceId, String name) {
        return account + ":variable:conjur/authn-jwt/" + serviceId + "/" + name;
    }

    /** @return the first configuration problem (Conjur's message), or {@code null} when the service is usable */
    String error() {
        return error;
    }

    /**
     * @param account the account
     * @param serviceId the service id from the URL
     * @param exists whether the webservice exists
     * @param enabledInDb whether {@code authenticator_configs} enables it
     * @param values variable name → value; a name mapped to {@code null} is declared but has no value
     * @return the parsed configuration (never throws: problems become {@link #error()})
     */
    static ServiceConfig parse(String account, String serviceId, boolean exists, boolean enabledInDb,
            Map<String, String> values) {
        Builder b = new Builder(account, serviceId, exists, enabledInDb);
        try {
            if (exists) {
                b.read(values);
            }
        } catch (Claims.Invalid e) {
            b.error = e.getMessage();
        }
        return new ServiceConfig(b);
    }

    private static final class Builder {
        final String account;
        final String serviceId;
        final boolean exists;
        final boolean enabledInDb;
        URI jwksUri;
        List<X509Certificate> caCerts = List.of();
        String caPem = "";
        JWKSet publicKeys;
        String issuer;
        String audience;
        String tokenAppProperty;
        String identityPath = "";
        List<String> enforcedClaims = List.of();
        Map<String, String> aliases = Map.of();
        Duration tokenTtl;
        String error;

        Builder(String account, String serviceId, boolean exists, boolean enabledInDb) {
            this.account = account;
            this.serviceId = serviceId;
            this.exists = exists;
            this.enabledInDb = enabledInDb;
        }

        void read(Map<String, String> values) throws Claims.Invalid {
            for (Map.Entry<String, String> v : values.entrySet()) {
                if (v.getValue() == null || v.getValue().isBlank()) {
                    throw new Claims.Invalid("CONJ00037E Missing value for resource: "
                            + variableId(account, serviceId, v.getKey()));
                }
            }
            boolean jwks = values.containsKey("jwks-uri");
            boolean keys = values.containsKey("public-keys");
            boolean provider = values.containsKey("provider-uri");
            if (!jwks && !keys && !provider) {
                throw settings("One of the following must be defined: jwks-uri, public-keys, or provider-uri");
            }
            if ((jwks ? 1 : 0) + (keys ? 1 : 0) + (provider ? 1 : 0) > 1) {
                throw settings("jwks-uri, public-keys and provider-uri cannot be defined simultaneously");
            }
            if (provider) {
                throw settings("provider-uri (OIDC discovery) is not supported by Coffer; use jwks-uri or public-keys");
            }
            issuer = trimmed(values.get("issuer"));
            audience = trimmed(values.get("audience"));
            if (jwks) {
                jwksUri = https(values.get("jwks-uri").trim());
            } else {
                publicKeys = publicKeys(values.get("public-keys"));
                if (issuer == null) {
                    throw settings("issuer is mandatory when public-keys is defined");
                }
            }
            if (values.containsKey("ca-cert")) {
                caPem = values.get("ca-cert").trim();
                caCerts = certificates(caPem);
            }
            tokenAppProperty = trimmed(values.get("token-app-property"));
            if (tokenAppProperty != null && !Claims.validPath(tokenAppProperty)) {
                throw new Claims.Invalid("CONJ00117E Failed to parse 'token-app-property' value. Error: '"
                        + "not a claim path'");
            }
            if (values.containsKey("identity-path")) {
                identityPath = stripSlashes(values.get("identity-path").trim());
            }
            if (values.containsKey("enforced-claims")) {
                enforcedClaims = Claims.enforced(values.get("enforced-claims"));
            }
            if (values.containsKey("claim-aliases")) {
                aliases = Claims.aliases(values.get("claim-aliases"));
            }
            if (values.containsKey("token-ttl")) {
                try {
                    tokenTtl = Duration.parse(values.get("token-ttl").trim());
                } catch (DateTimeParseException e) {
                    throw new Claims.Invalid("CONJ00122E Invalid signing key settings: token-ttl '"
                            + values.get("token-ttl").trim() + "' is not an ISO-8601 duration");
                }
            }
        }

        private static Claims.Invalid settings(String why) {
            return new Claims.Invalid("CONJ00122E Invalid signing key settings: " + why);
        }

        private static String trimmed(String v) {
            return v == null ? null : v.trim();
        }

        private static String stripSlashes(String path) {
            int start = 0;
            int end = path.length();
            while (start < end && path.charAt(start) == '/') {
                start++;
            }
            while (end > start && path.charAt(end - 1) == '/') {
                end--;
            }
            return path.substring(start, end);
        }

        private static URI https(String raw) throws Claims.Invalid {
            try {
                URI uri = new URI(raw);
                if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
                    throw new Claims.Invalid("CONJ00080E Failed to parse URI '" + raw + "'. Reason: 'an https URI "
                            + "with a host is required'");
                }
                return uri;
            } catch (URISyntaxException e) {
                throw new Claims.Invalid("CONJ00080E Failed to parse URI '" + raw + "'. Reason: '" + e.getReason() + "'");
            }
        }

        /** {@code {"type":"jwks","value":{"keys":[...]}}}; only the public halves are kept. */
        private static JWKSet publicKeys(String raw) throws Claims.Invalid {
            JsonNode doc;
            try {
                doc = JSON.readTree(raw);
            } catch (java.io.IOException e) {
                throw new Claims.Invalid("CONJ00120E Failed to parse 'public-keys': the value is not JSON");
            }
            if (doc == null || !doc.isObject() || !doc.path("type").isTextual()) {
                throw new Claims.Invalid("CONJ00120E Failed to parse 'public-keys': 'type' is missing");
            }
            if (!doc.get("type").asText().equals("jwks")) {
                throw new Claims.Invalid("CONJ00121E Signing key type '" + doc.get("type").asText() + "' is invalid");
            }
            if (!doc.path("value").path("keys").isArray() || doc.path("value").path("keys").isEmpty()) {
                throw new Claims.Invalid("CONJ00120E Failed to parse 'public-keys': 'value' must hold a JWKS with keys");
            }
            try {
                return JWKSet.parse(doc.get("value").toString()).toPublicJWKSet();
            } catch (java.text.ParseException e) {
                throw new Claims.Invalid("CONJ00120E Failed to parse 'public-keys': " + e.getMessage());
            }
        }

        private static List<X509Certificate> certificates(String pem) throws Claims.Invalid {
            try {
                List<X509Certificate> out = new ArrayList<>();
                for (java.security.cert.Certificate c : CertificateFactory.getInstance("X.509")
                        .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                    out.add((X509Certificate) c);
                }
                if (out.isEmpty()) {
                    throw new CertificateException("no certificate");
                }
                return Collections.unmodifiableList(out);
            } catch (CertificateException e) {
                throw settings("ca-cert holds no valid PEM certificate");
            }
        }
    }
}
