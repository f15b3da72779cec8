-- SIEM export: how far each destination has each node's chain. In the replicated database, so a new Leader goes on
-- where the old one stopped (syslog has no acknowledgements: at most the batch in flight is sent twice).
CREATE TABLE audit_export (
    destination TEXT NOT NULL,
    node TEXT NOT NULL,
    seq BIGINT NOT NULL,
    exported_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (destination, node)
);
