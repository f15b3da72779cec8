-- Every change on the Leader commits in one transaction with a row here (architecture §8): the write id is the
-- row's UUID; replicas advance their in-memory snapshot by reading this table in LSN order.
CREATE TABLE change_log (
    seq        BIGSERIAL    PRIMARY KEY,
    write_id   UUID         NOT NULL UNIQUE,
    account    TEXT         NOT NULL,
    kind       TEXT         NOT NULL,
    subject    TEXT,
    created_at TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- The Leader stamps this row every second; a replica's lag is the age of the newest stamp it has applied,
-- so an idle cluster shows no lag (architecture §6).
CREATE TABLE heartbeat (
    id         SMALLINT     PRIMARY KEY CHECK (id = 1),
    node       TEXT         NOT NULL,
    beat_at    TIMESTAMPTZ  NOT NULL
);
