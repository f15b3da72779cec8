package io.coffer.compat;

import static org.junit.Assert.assertEquals;
import static org.junit.Assume.assumeTrue;

import org.junit.Test;

import com.cyberark.conjur.sdk.ApiClient;
import com.cyberark.conjur.sdk.endpoint.SecretsApi;

/**
 * The official SDK pointed at a Follower (tests/cluster.sh sets CONJUR_APPLIANCE_URL to it): an application
 * authenticates with its host's API key and reads a secret, never knowing it isn't talking to the Leader.
 */
public class FollowerReadIT {
    @Test
    public void anApplicationReadsThroughTheFollower() throws Exception {
        String variable = System.getenv("COFFER_FOLLOWER_VARIABLE");
        assumeTrue("run by tests/cluster.sh", variable != null);
        ApiClient client = new ApiClient();
        assertEquals(System.getenv("COFFER_FOLLOWER_VALUE"),
                new SecretsApi(client).getSecret(System.getenv("CONJUR_ACCOUNT"), "variable", variable));
    }
}
