-- Host-factory tokens (conjur-api §1.6): bearer credentials, so the lookup key is their SHA-256 and the token
-- itself is kept only sealed (context 'hf-token:<sha256 hex>'), for the host factory's resource JSON.
CREATE TABLE host_factory_tokens (
    token_sha256  BYTEA        PRIMARY KEY,
    resource_id   TEXT         NOT NULL REFERENCES resources(resource_id) ON DELETE CASCADE,
    token         BYTEA        NOT NULL,
    expiration    TIMESTAMPTZ  NOT NULL,
    cidr          CIDR[]       NOT NULL DEFAULT '{}',
    created_at    TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX host_factory_tokens_resource ON host_factory_tokens(resource_id);

-- Authenticators enabled through the API (PATCH /{authenticator}/{service_id}/{account}), keyed by their
-- webservice resource ('acct:webservice:conjur/authn-jwt/svc'), as Conjur keeps them.
CREATE TABLE authenticator_configs (
    resource_id  TEXT         PRIMARY KEY REFERENCES resources(resource_id) ON DELETE CASCADE,
    enabled      BOOLEAN      NOT NULL DEFAULT false,
    updated_at   TIMESTAMPTZ  NOT NULL DEFAULT now()
);
