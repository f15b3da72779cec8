-- Enrolment seeds (replication issue): single-use, short-lived, bound to a node name and role. Only the SHA-256 of
-- the seed's consumption token is kept; consuming marks the row, so a second use is refused.
CREATE TABLE enrolment_seeds (
    id             UUID         PRIMARY KEY,
    node_name      TEXT         NOT NULL CHECK (node_name ~ '^[a-z0-9_-]{1,63}$'),
    role           TEXT         NOT NULL CHECK (role IN ('standby', 'follower', 'dr-standby')),
    token_sha256   BYTEA        NOT NULL,
    created_by     TEXT         NOT NULL,
    created_at     TIMESTAMPTZ  NOT NULL DEFAULT now(),
    expires_at     TIMESTAMPTZ  NOT NULL,
    consumed_at    TIMESTAMPTZ,
    consumed_from  TEXT,
    revoked_at     TIMESTAMPTZ
);
