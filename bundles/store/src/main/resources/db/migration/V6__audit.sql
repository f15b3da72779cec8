-- Audit events (audit issue, conjur-api §6): one row per event, keyed by the event id so a batch written twice (a
-- retry, later a forwarded copy) is stored once. Never a secret value, API key, password or token; no BYTEA.
CREATE TABLE audit_events (
    id               UUID         PRIMARY KEY,
    at               TIMESTAMPTZ  NOT NULL,
    msgid            TEXT         NOT NULL,
    priority         SMALLINT     NOT NULL,
    request_id       TEXT         NOT NULL,
    client_ip        TEXT,
    role_id          TEXT,
    resource_id      TEXT,
    operation        TEXT         NOT NULL,
    success          BOOLEAN      NOT NULL,
    structured_data  JSONB        NOT NULL,
    message          TEXT         NOT NULL,
    line             TEXT         NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_role ON audit_events (role_id, at);
CREATE INDEX audit_events_resource ON audit_events (resource_id, at);
CREATE INDEX audit_events_request ON audit_events (request_id);
