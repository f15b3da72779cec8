package io.coffer.keyprovider.kms.internal;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.crypto.KeyProvider;
import io.coffer.api.crypto.KeyProviderException;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.KmsClientBuilder;
import software.amazon.awssdk.services.kms.model.DecryptResponse;
import software.amazon.awssdk.services.kms.model.EncryptResponse;
import software.amazon.awssdk.services.kms.model.KmsException;

/**
 * The {@code kms} provider: the server key is encrypted by AWS KMS ({@code Encrypt}/{@code Decrypt}, symmetric key,
 * the wrap context as encryption context). Credentials come from the SDK's default chain (environment, system
 * properties, web identity, profile, container or instance role), never from this configuration.
 */
@Component(service = KeyProvider.class, configurationPid = KmsKeyProvider.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = KmsKeyProvider.Config.class)
public class KmsKeyProvider implements KeyProvider {
    public static final String PID = "io.coffer.keyprovider.kms";
    static final String CONTEXT_KEY = "coffer:purpose";
    private static final Logger LOG = LoggerFactory.getLogger(KmsKeyProvider.class);

    @ObjectClassDefinition(name = "Coffer master key: AWS KMS", description = "A KMS key wraps the server key")
    public @interface Config {
        @AttributeDefinition(description = "The KMS key new wraps use: key id, key ARN, alias/NAME or alias ARN")
        String key_id();

        @AttributeDefinition(description = "AWS region; empty = the SDK's default (AWS_REGION, profile, instance)")
        String region() default "";

        @AttributeDefinition(description = "Endpoint override (e.g. a VPC endpoint); empty = the region's KMS endpoint")
        String endpoint() default "";

        @AttributeDefinition(description = "Timeout of one KMS call, in seconds")
        int timeout_seconds() default 10;
    }

    private final KmsClient kms;
    private final String keyId;
    private final String where;

    @Activate
    public KmsKeyProvider(Config config) {
        this.keyId = config.key_id() == null ? "" : config.key_id().trim();
        if (keyId.isEmpty() || !keyId.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException(PID + ": key.id must name a KMS key (key id, ARN or alias/NAME)");
        }
        if (config.timeout_seconds() < 1 || config.timeout_seconds() > 300) {
            throw new IllegalArgumentException(PID + ": timeout.seconds must be between 1 and 300");
        }
        Duration timeout = Duration.ofSeconds(config.timeout_seconds());
        KmsClientBuilder b = KmsClient.builder()
                .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(timeout).socketTimeout(timeout).build())
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .overrideConfiguration(o -> o.apiCallTimeout(timeout.multipliedBy(3)));
        if (!config.region().isBlank()) {
            b.region(Region.of(config.region().trim()));
        }
        String endpoint = config.endpoint().trim();
        if (!endpoint.isEmpty()) {
            URI uri;
            try {
                uri = URI.create(endpoint);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(PID + ": endpoint '" + endpoint + "' is not a URI");
            }
            if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException(PID + ": endpoint must be an https:// (or http://) URL");
            }
            b.endpointOverride(uri);
        }
        try {
            this.kms = b.build();
        } catch (SdkClientException e) {
            throw new IllegalArgumentException(PID + ": the KMS client can't be built: " + e.getMessage());
        }
        this.where = endpoint.isEmpty() ? "KMS in " + kms.serviceClientConfiguration().region() : "KMS at " + endpoint;
        LOG.info("master-key provider 'kms' ready: {}, default key {}", where, keyId);
    }

    @Deactivate
    void close() {
        kms.close();
    }

    @Override
    public String name() {
        return "kms";
    }

    @Override
    public String defaultKeyId() {
        return keyId;
    }

    @Override
    public WrappedKey wrap(String id, byte[] key, String context) {
        try {
            EncryptResponse r = kms.encrypt(e -> e.keyId(id).plaintext(SdkBytes.fromByteArray(key))
                    .encryptionContext(Map.of(CONTEXT_KEY, context)));
            return new WrappedKey(r.keyId(), r.ciphertextBlob().asByteArray());
        } catch (SdkException e) {
            throw failure("Encrypt", id, e);
        }
    }

    @Override
    public byte[] unwrap(String id, byte[] wrapped, String context) {
        try {
            DecryptResponse r = kms.decrypt(d -> d.keyId(id).ciphertextBlob(SdkBytes.fromByteArray(wrapped))
                    .encryptionContext(Map.of(CONTEXT_KEY, context)));
            return r.plaintext().asByteArray();
        } catch (SdkException e) {
            throw failure("Decrypt", id, e);
        }
    }

    private KeyProviderException failure(String op, String id, SdkException e) {
        if (e instanceof KmsException && ((KmsException) e).awsErrorDetails() != null) {
            KmsException k = (KmsException) e;
            String code = k.awsErrorDetails().errorCode();
            String why;
            switch (code == null ? "" : code) {
                case "NotFoundException": why = "the key does not exist"; break;
                case "DisabledException": why = "the key is disabled"; break;
                case "KMSInvalidStateException": why = "the key is not usable (pending deletion or import)"; break;
                case "InvalidCiphertextException":
                    why = "the wrapped server key does not decrypt: tampered, or another encryption context"; break;
                case "IncorrectKeyException": why = "the server key was wrapped by another KMS key"; break;
                case "AccessDeniedException": why = "access denied to these credentials"; break;
                default: why = code + ": " + k.awsErrorDetails().errorMessage(); break;
            }
            return new KeyProviderException(where + " " + op + " with key " + id + " failed: " + why
                    + " (HTTP " + k.statusCode() + ", request " + k.requestId() + ")");
        }
        return new KeyProviderException(where + " " + op + " with key " + id + " failed: " + e.getMessage());
    }
}
