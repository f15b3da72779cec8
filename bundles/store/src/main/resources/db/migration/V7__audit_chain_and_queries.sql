-- Audit, second slice. Each event's node and place in that node's chain (tamper evidence: the highest seq stored for a
-- node is how far its file must reach), the account it belongs to (the scope of the /audit routes), and indexes for
-- the routes: newest first per account, and structured-data containment (subject, policy, auth ids; sdid/param
-- filters).
ALTER TABLE audit_events ADD COLUMN account TEXT, ADD COLUMN node TEXT, ADD COLUMN seq BIGINT;

UPDATE audit_events SET account = split_part(id_with_account, ':', 1)
FROM (SELECT e.id AS event_id,
             (SELECT v FROM unnest(ARRAY[e.role_id, e.structured_data->'subject@43868'->>'role',
                                         e.structured_data->'subject@43868'->>'resource',
                                         e.structured_data->'policy@43868'->>'id']) WITH ORDINALITY AS t(v, n)
              WHERE position(':' IN v) > 1 ORDER BY n LIMIT 1) AS id_with_account
      FROM audit_events e) found
WHERE audit_events.id = found.event_id AND found.id_with_account IS NOT NULL;

CREATE INDEX audit_events_account_at ON audit_events (account, at DESC, id DESC);
CREATE INDEX audit_events_sd ON audit_events USING gin (structured_data jsonb_path_ops);
CREATE INDEX audit_events_node_seq ON audit_events (node, seq);
