package io.coffer.replication.internal;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class RepointTest {

    @Test
    public void keepsTheCertificateAndNameAndChangesOnlyTheUpstream() {
        String current = "host=127.0.0.1 port=5433 user=coffer_replication sslmode=verify-ca "
                + "sslrootcert=/srv/n2/pg/tls/ca.crt sslcert=/srv/n2/pg/tls/node.crt sslkey=/srv/n2/pg/tls/node.key "
                + "application_name=standby_n2";
        assertEquals("host=10.0.0.9 port=6433 user=coffer_replication sslmode=verify-ca "
                + "sslrootcert=/srv/n2/pg/tls/ca.crt sslcert=/srv/n2/pg/tls/node.crt sslkey=/srv/n2/pg/tls/node.key "
                + "application_name=standby_n2", Replication.repointed(current, "10.0.0.9", 6433));
    }

    @Test
    public void keepsAPasswordConnection() {
        assertEquals("host=h port=1 user=coffer_replication password=abc-_9 application_name=follower_n4",
                Replication.repointed("host=x port=2 user=coffer_replication password=abc-_9 "
                        + "application_name=follower_n4", "h", 1));
    }

    @Test
    public void dropsWhatItDidNotWriteOrCannotCarrySafely() {
        // A quote or an unknown key read back from the setting is never written again.
        assertEquals("host=h port=1 user=coffer_replication application_name=standby_n3",
                Replication.repointed("host=x options='-c x=1' sslkey=/a'b passfile=/tmp/p "
                        + "application_name=standby_n3 xapplication_name=evil", "h", 1));
    }

    @Test
    public void readsWhereAReplicaIsPointed() {
        assertEquals("127.0.0.1:5443", Replica.pointedAt("host=127.0.0.1 port=5443 user=coffer_replication "
                + "sslmode=verify-ca application_name=standby_n3"));
        assertEquals(null, Replica.pointedAt(""));
    }
}
