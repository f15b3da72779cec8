package io.coffer.authn.jwt.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.authn.AccessTokens;
import io.coffer.api.authn.AuthnException;
import io.coffer.api.authn.Authenticator;
import io.coffer.api.authn.Logins;
import io.coffer.api.rbac.Access;
import io.coffer.api.rbac.Permissions;

/**
 * Conjur's {@code authn-jwt}: a JWT signed by a configured issuer, for a role allowed to {@code authenticate} on the
 * service's webservice and whose {@code authn-jwt/<service_id>/<claim>} annotations all equal the token's claims,
 * gives an access token. Every failure is a 401 without detail (the reason, with Conjur's code, goes to the log and
 * never a token or claim value); an expired token says so. Failures are throttled per client address and per role.
 */
@Component(service = {Authenticator.class, JwtAuthenticator.class}, configurationPid = JwtAuthenticator.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = JwtAuthenticator.Config.class)
public class JwtAuthenticator implements Authenticator {
    public static final String PID = "io.coffer.authn.jwt";
    static final String EXPIRED = "CONJ00016E Token expired";
    private static final Logger LOG = LoggerFactory.getLogger(JwtAuthenticator.class);

    @ObjectClassDefinition(name = "Coffer authn-jwt", description = "The JWT authenticator")
    public @interface Config {
        @AttributeDefinition(description = "Failed attempts allowed per client address per window")
        int client_failures() default 30;

        @AttributeDefinition(description = "Failed attempts allowed per role per window")
        int role_failures() default 10;

        @AttributeDefinition(description = "Throttling window in seconds")
        int window_seconds() default 60;

        @AttributeDefinition(description = "Seconds a fetched JWKS is used before it is fetched again")
        int jwks_cache_seconds() default 600;

        @AttributeDefinition(description = "Least seconds between two fetches of one JWKS (unknown kid, failures)")
        int jwks_refresh_seconds() default 60;

        @AttributeDefinition(description = "Connect and read timeout of a JWKS fetch, in milliseconds")
        int jwks_timeout_millis() default 5000;

        @AttributeDefinition(description = "Largest JWKS accepted, in bytes")
        int jwks_max_bytes() default 262144;

        @AttributeDefinition(description = "Clock skew allowed on exp and nbf, in seconds")
        int clock_skew_seconds() default 0;
    }

    /** The outcome of a status check: 200 with no error, or Conjur's status and message. */
    record Status(int code, String error) {
    }

    private final JwtSettings settings;
    private final AccessTokens tokens;
    private final Permissions permissions;
    private final JwksCache jwks;
    private final JwtVerifier verifier;
    private final Throttle clients;
    private final Throttle roles;

    @Activate
    public JwtAuthenticator(@Reference JwtSettings settings, @Reference AccessTokens tokens,
            @Reference Permissions permissions, Config config) {
        this(settings, tokens, permissions, config, Clock.systemUTC());
    }

    JwtAuthenticator(JwtSettings settings, AccessTokens tokens, Permissions permissions, Config config, Clock clock) {
        this.settings = settings;
        this.tokens = tokens;
        this.permissions = permissions;
        this.jwks = new JwksCache(new JwksClient(config.jwks_timeout_millis(), config.jwks_max_bytes()),
                config.jwks_cache_seconds() * 1000L, config.jwks_refresh_seconds() * 1000L, clock);
        this.verifier = new JwtVerifier(clock, config.clock_skew_seconds());
        long window = config.window_seconds() * 1000L;
        this.clients = new Throttle(config.client_failures(), window, clock);
        this.roles = new Throttle(config.role_failures(), window, clock);
    }

    @Override
    public String name() {
        return "authn-jwt";
    }

    /**
     * The generic entry: {@code login} is {@code <service_id>} (identity from the token) or
     * {@code <service_id>/<login>} (identity from the URL); {@code credential} is the compact JWT.
     */
    @Override
    public byte[] authenticate(String account, String login, byte[] credential, String clientIp) {
        int slash = login == null ? -1 : login.indexOf('/');
        String serviceId = slash < 0 ? login : login.substring(0, slash);
        return authenticate(serviceId, account, slash < 0 ? null : login.substring(slash + 1),
                new String(credential, StandardCharsets.US_ASCII), clientIp);
    }

    /**
     * @param serviceId the service id from the URL
     * @param account the account from the URL
     * @param urlLogin the login from the URL ({@code host/apps/ci}), or {@code null} to take it from the token
     * @param jwt the compact JWT
     * @param clientIp the client's address
     * @return the access token JSON
     * @throws AuthnException 401 (message empty, or {@value #EXPIRED}), or 429 when throttled
     */
    public byte[] authenticate(String serviceId, String account, String urlLogin, String jwt, String clientIp) {
        return authenticate(serviceId, account, urlLogin, jwt, clientIp, new Attempt());
    }

    /** What an authentication found out, for its audit event: the role (once known) and why it was refused. */
    static final class Attempt {
        String roleId;
        String reason;
    }

    byte[] authenticate(String serviceId, String account, String urlLogin, String jwt, String clientIp,
            Attempt attempt) {
        if (!printable(serviceId) || !printable(account)) {
            throw new AuthnException(401, "");
        }
        String client = String.valueOf(clientIp);
        String urlRole = urlLogin == null ? null : roleId(account, urlLogin);
        long wait = Math.max(clients.retryAfter(client), urlRole == null ? 0 : roles.retryAfter(urlRole));
        if (wait > 0) {
            throw new AuthnException(429, "too many failed authentication attempts; retry later", wait);
        }
        String roleId = urlRole;
        attempt.roleId = urlRole;
        try {
            ServiceConfig cfg = settings.service(account, serviceId);
            if (!settings.enabled(cfg)) {
                throw new JwtVerifier.Rejected("CONJ00004E 'authn-jwt/" + serviceId + "' is not enabled");
            }
            if (!cfg.exists) {
                throw new JwtVerifier.Rejected("CONJ00005E Webservice 'authn-jwt/" + serviceId + "' not found");
            }
            if (cfg.error() != null) {
                throw new JwtVerifier.Rejected(cfg.error());
            }
            Map<String, Object> claims = verifier.verify(jwt, cfg, unknownKid -> cfg.publicKeys != null
                    ? cfg.publicKeys : jwks.keys(cfg.jwksUri, cfg.caCerts, cfg.caPem, unknownKid));
            roleId = roleId(account, identity(cfg, urlLogin, claims));
            attempt.roleId = roleId;
            long roleWait = roles.retryAfter(roleId);
            if (roleWait > 0) {
                throw new AuthnException(429, "too many failed authentication attempts; retry later", roleWait);
            }
            if (permissions.check(roleId, cfg.webserviceId, "authenticate") != Access.ALLOWED) {
                throw new JwtVerifier.Rejected("CONJ00006E '" + roleId + "' does not have 'authenticate' privilege on "
                        + cfg.webserviceId);
            }
            checkRestrictions(cfg, settings.restrictions(roleId, serviceId), claims);
            String[] kindId = roleId.split(":", 3);
            byte[] token = tokens.issue(account, Logins.login(kindId[1], kindId[2]));
            roles.succeeded(roleId);
            return token;
        } catch (JwtVerifier.Rejected e) {
            attempt.reason = e.getMessage();
            clients.failed(client);
            if (roleId != null) {
                roles.failed(roleId);
            }
            LOG.info("authn-jwt/{} in account {}: authentication{} rejected: {}", serviceId, account,
                    roleId == null ? "" : " of " + roleId, e.getMessage());
            throw new AuthnException(401, e.expired ? EXPIRED : "");
        } catch (SQLException e) {
            throw new IllegalStateException("authn-jwt configuration unavailable: " + e.getSQLState(), e);
        }
    }

    /** The role from the URL, or the {@code token-app-property} claim under {@code identity-path} (a host). */
    private static String identity(ServiceConfig cfg, String urlLogin, Map<String, Object> claims)
            throws JwtVerifier.Rejected {
        if (cfg.tokenAppProperty == null) {
            if (urlLogin == null) {
                throw new JwtVerifier.Rejected("CONJ00101E JWT identity is empty or was not found.");
            }
            return urlLogin;
        }
        if (urlLogin != null) {
            throw new JwtVerifier.Rejected("CONJ00098E JWT identity configuration is invalid (token-app-property is "
                    + "defined, so the URL must not name a login)");
        }
        Object value = Claims.lookup(claims, cfg.tokenAppProperty);
        if (value != null && !(value instanceof String)) {
            throw new JwtVerifier.Rejected("CONJ00118E '" + cfg.tokenAppProperty + "' value in token has type '"
                    + value.getClass().getSimpleName() + "'. An identity must be a String.");
        }
        if (value == null || ((String) value).isBlank()) {
            throw new JwtVerifier.Rejected("CONJ00090E Claim '" + cfg.tokenAppProperty
                    + "' value is empty, or was not found in token.");
        }
        return "host/" + (cfg.identityPath.isEmpty() ? "" : cfg.identityPath + "/") + value;
    }

    /** Every annotation must equal its claim (through {@code claim-aliases}); enforced claims must be among them. */
    static void checkRestrictions(ServiceConfig cfg, Map<String, String> restrictions, Map<String, Object> claims)
            throws JwtVerifier.Rejected {
        if (restrictions.isEmpty()) {
            throw new JwtVerifier.Rejected("CONJ00099E Role must have at least one relevant annotation");
        }
        Set<String> aliased = new HashSet<>(cfg.aliases.values());
        Set<String> covered = new HashSet<>();
        for (Map.Entry<String, String> r : restrictions.entrySet()) {
            String name = r.getKey();
            if (!Claims.validPath(name)) {
                throw new JwtVerifier.Rejected("CONJ00119E Restriction '" + name
                        + "' is invalid and not representing claim path in the token");
            }
            if (Claims.DENYLIST.contains(name) || (aliased.contains(name) && !cfg.aliases.containsKey(name))) {
                throw new JwtVerifier.Rejected("CONJ00069E Role can't have registered or aliased claim. Error: '"
                        + name + "'");
            }
            if (r.getValue().isEmpty()) {
                throw new JwtVerifier.Rejected("CONJ00100E Annotation, '" + name + "', is empty");
            }
            String claim = cfg.aliases.getOrDefault(name, name);
            Object actual = Claims.lookup(claims, claim);
            if (actual == null) {
                throw new JwtVerifier.Rejected("CONJ00084E Claim '" + claim + "' is missing from JWT token. Verify "
                        + "that you configured the host with permitted restrictions.");
            }
            if (!r.getValue().equals(Claims.text(actual))) {
                throw new JwtVerifier.Rejected("CONJ00049E Resource restriction '" + name
                        + "' does not match with the corresponding value in the request");
            }
            covered.add(claim);
        }
        for (String claim : cfg.enforcedClaims) {
            if (!covered.contains(claim)) {
                throw new JwtVerifier.Rejected("CONJ00057E Role does not have the required constraints: '" + claim + "'");
            }
        }
    }

    /**
     * {@code GET /authn-jwt/<service_id>/<account>/status}: Conjur's checks in Conjur's order.
     *
     * @param roleId the caller (from its access token)
     * @return 200, or 403 (no {@code read} on {@code .../status}) or 500 with Conjur's message
     */
    Status status(String serviceId, String account, String roleId) {
        String statusResource = ServiceConfig.webserviceId(account, serviceId) + "/status";
        if (permissions.check(roleId, statusResource, "read") != Access.ALLOWED) {
            return new Status(403, "CONJ00006E '" + roleId + "' does not have 'read' privilege on " + statusResource);
        }
        ServiceConfig cfg;
        try {
            cfg = settings.service(account, serviceId);
        } catch (SQLException e) {
            throw new IllegalStateException("authn-jwt configuration unavailable: " + e.getSQLState(), e);
        }
        if (!settings.enabled(cfg)) {
            return new Status(500, "CONJ00004E 'authn-jwt/" + serviceId + "' is not enabled");
        }
        if (!cfg.exists) {
            return new Status(500, "CONJ00005E Webservice 'authn-jwt/" + serviceId + "' not found");
        }
        if (cfg.error() != null) {
            return new Status(500, cfg.error());
        }
        if (cfg.jwksUri != null) {
            try {
                jwks.keys(cfg.jwksUri, cfg.caCerts, cfg.caPem, false);
            } catch (IOException e) {
                return new Status(500, "CONJ00087E Failed to fetch JWKS from '" + JwksCache.printable(cfg.jwksUri)
                        + "'. Reason: '" + e.getMessage() + "'");
            }
        }
        return new Status(200, null);
    }

    /** The login comes from the URL or from a claim: it goes into the log, so it must be one printable line. */
    static String roleId(String account, String login) {
        if (!printable(login)) {
            throw new AuthnException(401, "");
        }
        return account + ":" + Logins.roleIdTail(login);
    }

    private static boolean printable(String s) {
        return s != null && !s.isEmpty() && s.length() <= 512 && s.chars().noneMatch(c -> c < 0x20 || c == 0x7f);
    }
}
