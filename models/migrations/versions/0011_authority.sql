-- Migration 0011 on PostgreSQL: run in the migration's transaction, so every function
-- is revoked from PUBLIC before any other session can see it.

-- The audit actor is the server's: whoever is connected (session_user, which a
-- SECURITY DEFINER function does not change), at the server's clock. Only the table's
-- owner (the seeder and importer, who write history) may state another actor and time.
CREATE FUNCTION audit_log_server_actor() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        NEW.actor := session_user;
        NEW.at := clock_timestamp();
    END IF;
    RETURN NEW;
END $$;
REVOKE ALL ON FUNCTION audit_log_server_actor() FROM PUBLIC;
CREATE TRIGGER audit_log_server_actor BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_server_actor();
