-- The key hierarchy (architecture §8): data-key versions wrapped by the cluster root key (which never enters the
-- database). Every other encrypted column is sealed under one of these versions.
CREATE TABLE keyring (
    version     INT          PRIMARY KEY CHECK (version > 0),
    wrapped     BYTEA        NOT NULL,
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- Conjur's model: ids are 'account:kind:identifier'. A role and its resource share the id.
CREATE TABLE accounts (
    id          TEXT         PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- One token-signing key per account; the private key is sealed (context 'authn:<account>').
CREATE TABLE signing_keys (
    account      TEXT         PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    algorithm    TEXT         NOT NULL,
    private_key  BYTEA        NOT NULL,
    public_key   BYTEA        NOT NULL,
    kid          TEXT         NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE TABLE roles (
    role_id     TEXT         PRIMARY KEY,
    account     TEXT         NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind        TEXT         NOT NULL,
    identifier  TEXT         NOT NULL,
    policy_id   TEXT,
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CHECK (role_id = account || ':' || kind || ':' || identifier)
);

CREATE TABLE resources (
    resource_id TEXT         PRIMARY KEY,
    account     TEXT         NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind        TEXT         NOT NULL,
    identifier  TEXT         NOT NULL,
    owner_id    TEXT         NOT NULL REFERENCES roles(role_id) ON DELETE CASCADE,
    policy_id   TEXT,
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CHECK (resource_id = account || ':' || kind || ':' || identifier)
);
CREATE INDEX resources_account_kind ON resources(account, kind);
CREATE INDEX resources_owner ON resources(owner_id);

CREATE TABLE role_memberships (
    role_id       TEXT     NOT NULL REFERENCES roles(role_id) ON DELETE CASCADE,
    member_id     TEXT     NOT NULL REFERENCES roles(role_id) ON DELETE CASCADE,
    admin_option  BOOLEAN  NOT NULL DEFAULT false,
    ownership     BOOLEAN  NOT NULL DEFAULT false,
    policy_id     TEXT,
    PRIMARY KEY (role_id, member_id, ownership)
);
CREATE INDEX role_memberships_member ON role_memberships(member_id);

CREATE TABLE permissions (
    privilege    TEXT  NOT NULL,
    resource_id  TEXT  NOT NULL REFERENCES resources(resource_id) ON DELETE CASCADE,
    role_id      TEXT  NOT NULL REFERENCES roles(role_id) ON DELETE CASCADE,
    policy_id    TEXT,
    PRIMARY KEY (privilege, resource_id, role_id)
);
CREATE INDEX permissions_role ON permissions(role_id);

CREATE TABLE annotations (
    resource_id  TEXT  NOT NULL REFERENCES resources(resource_id) ON DELETE CASCADE,
    name         TEXT  NOT NULL,
    value        TEXT  NOT NULL,
    policy_id    TEXT,
    PRIMARY KEY (resource_id, name)
);

-- API keys and password hashes are sealed with the role id as context; restricted_to is checked at authenticate.
CREATE TABLE credentials (
    role_id        TEXT         PRIMARY KEY REFERENCES roles(role_id) ON DELETE CASCADE,
    api_key        BYTEA,
    password_hash  BYTEA,
    expiration     TIMESTAMPTZ,
    restricted_to  CIDR[]       NOT NULL DEFAULT '{}',
    updated_at     TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- Secret values, sealed with the variable's resource id and version as context; the newest 20 are kept.
CREATE TABLE secrets (
    resource_id  TEXT         NOT NULL REFERENCES resources(resource_id) ON DELETE CASCADE,
    version      INT          NOT NULL CHECK (version > 0),
    value        BYTEA        NOT NULL,
    expires_at   TIMESTAMPTZ,
    created_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
    PRIMARY KEY (resource_id, version)
);
