package io.coffer.compat;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

import com.cyberark.conjur.sdk.ApiClient;
import com.cyberark.conjur.sdk.ApiException;
import com.cyberark.conjur.sdk.endpoint.AuthenticationApi;
import com.cyberark.conjur.sdk.endpoint.PoliciesApi;
import com.cyberark.conjur.sdk.endpoint.SecretsApi;
import com.cyberark.conjur.sdk.model.LoadedPolicy;

/**
 * The official Conjur Java SDK, configured only by the CONJUR_* variables that {@code ./coffer start} prints:
 * it authenticates, loads a policy, sets and reads a secret, and gets the documented errors.
 */
public class ConjurSdkIT {

    private static ApiClient client() {
        for (String v : new String[] {"CONJUR_APPLIANCE_URL", "CONJUR_ACCOUNT", "CONJUR_AUTHN_LOGIN",
                "CONJUR_AUTHN_API_KEY", "CONJUR_CERT_FILE", "CONJUR_AUTO_UPDATE_TOKEN"}) {
            assertNotNull(v + " must be set (eval \"$(./coffer start)\")", System.getenv(v));
        }
        return new ApiClient();
    }

    @Test
    public void authenticateLoadPolicySetAndReadASecret() throws Exception {
        ApiClient client = client();
        String account = System.getenv("CONJUR_ACCOUNT");
        // Login (Basic, the API key as password) gives the API key back; tokens are then fetched by the SDK itself
        // (CONJUR_AUTO_UPDATE_TOKEN=true, printed by ./coffer start).
        assertEquals(System.getenv("CONJUR_AUTHN_API_KEY"), new AuthenticationApi(client).getAPIKey(account));
        PoliciesApi policies = new PoliciesApi(client);
        LoadedPolicy loaded = policies.loadPolicy(account, "root", String.join("\n",
                "- !policy",
                "  id: sdk",
                "  body:",
                "  - !variable db-password",
                "  - !host app",
                "  - !permit { role: !host app, privileges: [ read, execute ], resource: !variable db-password }", ""));
        assertNotNull(loaded.getVersion());
        assertTrue(String.valueOf(loaded.getCreatedRoles()), String.valueOf(loaded.getCreatedRoles())
                .contains(account + ":host:sdk/app"));

        SecretsApi secrets = new SecretsApi(client);
        secrets.createSecret(account, "variable", "sdk/db-password", null, null, "from the SDK: p@ss w0rd+");
        assertEquals("from the SDK: p@ss w0rd+", secrets.getSecret(account, "variable", "sdk/db-password"));
        try {
            secrets.getSecret(account, "variable", "sdk/missing");
            fail("read a missing variable");
        } catch (ApiException e) {
            assertEquals(404, e.getCode());
        }
        try {
            policies.loadPolicy(account, "root", "- !user a\n- !nope b\n");
            fail("loaded an invalid policy");
        } catch (ApiException e) {
            assertEquals(422, e.getCode());
            assertTrue(e.getResponseBody(), e.getResponseBody().contains("policy_invalid"));
        }
    }
}
