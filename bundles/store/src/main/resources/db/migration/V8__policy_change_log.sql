-- One audit event per row a policy load changes (conjur-api §6), cascades included: while a load runs, its
-- transaction sets coffer.policy_log = 'on' (SET LOCAL) and these triggers copy every changed row of the RBAC tables
-- into the session's temporary table policy_changes, which the loader reads back and empties before it commits.
-- Outside a load (the setting unset) they do nothing; updates that change nothing are not rows that changed.
CREATE FUNCTION policy_change_log() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r JSONB;
BEGIN
    IF current_setting('coffer.policy_log', true) IS DISTINCT FROM 'on' THEN
        RETURN NULL;
    END IF;
    r := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
    INSERT INTO pg_temp.policy_changes(tbl, op, role_id, resource_id, member_id, privilege, name, ownership)
    VALUES (TG_TABLE_NAME, TG_OP, r->>'role_id', r->>'resource_id', r->>'member_id', r->>'privilege', r->>'name',
            (r->>'ownership')::boolean);
    RETURN NULL;
END
$$;

CREATE TRIGGER roles_policy_log AFTER INSERT OR DELETE ON roles
    FOR EACH ROW EXECUTE FUNCTION policy_change_log();
CREATE TRIGGER roles_policy_log_update AFTER UPDATE ON roles
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION policy_change_log();
CREATE TRIGGER resources_policy_log AFTER INSERT OR DELETE ON resources
    FOR EACH ROW EXECUTE FUNCTION policy_change_log();
CREATE TRIGGER resources_policy_log_update AFTER UPDATE ON resources
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION policy_change_log();
CREATE TRIGGER role_memberships_policy_log AFTER INSERT OR DELETE ON role_memberships
    FOR EACH ROW EXECUTE FUNCTION policy_change_log();
CREATE TRIGGER role_memberships_policy_log_update AFTER UPDATE ON role_memberships
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION policy_change_log();
CREATE TRIGGER permissions_policy_log AFTER INSERT OR DELETE ON permissions
    FOR EACH ROW EXECUTE FUNCTION policy_change_log();
CREATE TRIGGER annotations_policy_log AFTER INSERT OR DELETE ON annotations
    FOR EACH ROW EXECUTE FUNCTION policy_change_log();
CREATE TRIGGER annotations_policy_log_update AFTER UPDATE ON annotations
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION policy_change_log();
