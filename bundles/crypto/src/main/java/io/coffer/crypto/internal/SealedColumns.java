package io.coffer.crypto.internal;

import java.util.List;
import java.util.Set;

/**
 * Every database column sealed under a data key, with how to name a row and how to rebuild the context its value
 * was sealed with, in SQL: what a data-key rotation re-encrypts. A bundle that adds a sealed column adds it here
 * (a test fails on any BYTEA column that is in neither list).
 */
final class SealedColumns {
    /** A sealed column: {@code rowKey} and {@code context} are SQL expressions over the table's columns. */
    static final class Column {
        final String table;
        final String column;
        final String rowKey;
        final String context;

        Column(String table, String column, String rowKey, String context) {
            this.table = table;
            this.column = column;
            this.rowKey = rowKey;
            this.context = context;
        }

        @Override
        public String toString() {
            return table + "." + column;
        }
    }

    static final List<Column> ALL = List.of(
            new Column("secrets", "value", "resource_id || '#' || version", "resource_id || '#' || version"),
            new Column("credentials", "api_key", "role_id", "role_id"),
            new Column("credentials", "password_hash", "role_id", "role_id || '#password'"),
            new Column("signing_keys", "private_key", "account", "'authn:' || account"),
            new Column("host_factory_tokens", "token", "encode(token_sha256, 'hex')",
                    "'hf-token:' || encode(token_sha256, 'hex')"));

    /** BYTEA columns that hold no data-key ciphertext (the keyring is wrapped by the root key). */
    static final Set<String> NOT_SEALED = Set.of("keyring.wrapped", "signing_keys.public_key",
            "host_factory_tokens.token_sha256", "enrolment_seeds.token_sha256");

    private SealedColumns() {
    }
}
