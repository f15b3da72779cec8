-- Every successful policy load (conjur-api §3.4): the text as submitted, who loaded it, from where. The newest 20
-- per policy are kept.
CREATE TABLE policy_versions (
    resource_id    TEXT         NOT NULL REFERENCES resources(resource_id) ON DELETE CASCADE,
    version        INT          NOT NULL CHECK (version > 0),
    role_id        TEXT         NOT NULL,
    client_ip      TEXT,
    policy_text    TEXT         NOT NULL,
    policy_sha256  TEXT         NOT NULL,
    created_at     TIMESTAMPTZ  NOT NULL DEFAULT now(),
    finished_at    TIMESTAMPTZ,
    PRIMARY KEY (resource_id, version)
);
