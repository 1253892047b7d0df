-- Catalog hardening for the NL query path (THREATS.md, "The reader role"). Needs a superuser;
-- applied on every upgrade because it is idempotent and new PostgreSQL versions add functions.

DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure
        FROM pg_proc AS p
        WHERE p.proname IN ('set_config', 'pg_sleep', 'pg_sleep_for', 'pg_sleep_until', 'pg_notify',
                            'pg_cancel_backend', 'pg_terminate_backend', 'ts_stat', 'ts_rewrite',
                            'txid_current', 'txid_current_if_assigned', 'pg_current_xact_id',
                            'pg_current_xact_id_if_assigned', 'nextval', 'setval', 'currval', 'lastval',
                            'pg_read_file', 'pg_read_binary_file', 'pg_ls_dir', 'pg_stat_file',
                            'pg_get_viewdef', 'pg_stat_get_activity', 'loread', 'lowrite',
                            'pg_backend_pid', 'inet_server_addr', 'inet_server_port', 'pg_listening_channels',
                            'pg_notification_queue_usage')
           OR p.proname LIKE 'pg\_advisory\_%'
           OR p.proname LIKE 'pg\_try\_advisory\_%'
           OR p.proname LIKE 'lo\_%'
           OR p.proname LIKE 'dblink%'
           OR p.proname LIKE 'pg\_ls\_%'
           OR p.proname LIKE 'pg\_read\_%'
           OR p.proname LIKE '%\_to\_xml%'
           OR p.proname LIKE '%\_to\_xmlschema'
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn);
    END LOOP;

    -- The app and owner roles take locks, use sequences and set their own settings.
    FOR fn IN
        SELECT p.oid::regprocedure
        FROM pg_proc AS p
        WHERE p.proname IN ('set_config', 'nextval', 'setval', 'currval', 'lastval', 'pg_notify')
           OR p.proname LIKE 'pg\_advisory\_%'
           OR p.proname LIKE 'pg\_try\_advisory\_%'
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO vanguard_owner, vanguard_app', fn);
    END LOOP;
END;
$$;

REVOKE SELECT ON pg_catalog.pg_stat_activity, pg_catalog.pg_settings, pg_catalog.pg_roles,
                 pg_catalog.pg_policies, pg_catalog.pg_stats, pg_catalog.pg_stats_ext,
                 pg_catalog.pg_user, pg_catalog.pg_shadow, pg_catalog.pg_file_settings,
                 pg_catalog.pg_hba_file_rules, pg_catalog.pg_stat_replication,
                 pg_catalog.pg_prepared_statements, pg_catalog.pg_locks
    FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
