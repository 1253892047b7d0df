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
           OR p.proname LIKE 'pg\_restore\_%\_stats'
           OR p.proname LIKE 'pg\_clear\_%\_stats'
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

-- What the reader could otherwise learn about other organizations and the server (THREATS.md,
-- "The catalog at the database line"): statistics (row counts, scans, sizes, locks, snapshot
-- and WAL positions move with every tenant's activity), function sources, view internals, role
-- settings, every setting, and the version string. Revoked from PUBLIC and granted back to the
-- owner and app roles, which read every organization's rows anyway. Loops over what this server
-- has, so the same file serves PostgreSQL 15 to 18.
DO $$
DECLARE
    fn regprocedure;
    rel regclass;
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure
        FROM pg_proc AS p
        WHERE p.pronamespace = 'pg_catalog'::regnamespace
          AND (p.proname LIKE 'pg\_stat\_%'
               OR p.proname IN ('current_setting', 'pg_show_all_settings', 'version',
                                'pg_get_functiondef', 'pg_get_function_sqlbody', 'pg_get_ruledef',
                                'pg_relation_size', 'pg_total_relation_size', 'pg_table_size',
                                'pg_indexes_size', 'pg_database_size', 'pg_tablespace_size',
                                'pg_lock_status', 'pg_blocking_pids', 'pg_safe_snapshot_blocking_pids',
                                'pg_current_snapshot', 'txid_current_snapshot', 'pg_current_wal_lsn',
                                'pg_current_wal_insert_lsn', 'pg_current_wal_flush_lsn',
                                'pg_last_committed_xact', 'pg_xact_commit_timestamp',
                                'pg_xact_commit_timestamp_origin', 'pg_postmaster_start_time',
                                'pg_conf_load_time', 'pg_prepared_xact', 'pg_get_multixact_members',
                                'pg_xact_status', 'txid_status', 'pg_last_wal_receive_lsn',
                                'pg_last_wal_replay_lsn', 'pg_last_xact_replay_timestamp',
                                'pg_control_checkpoint', 'pg_control_system', 'pg_control_init',
                                'pg_control_recovery'))
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO vanguard_owner, vanguard_app', fn);
    END LOOP;

    -- Statistics views (pg_stat_*, pg_statio_*), rules (view internals) and per-role settings.
    -- pg_stats and its extended-statistics siblings stay as they were above: not granted back.
    FOR rel IN
        SELECT c.oid::regclass
        FROM pg_class AS c
        WHERE c.relnamespace = 'pg_catalog'::regnamespace
          AND ((c.relkind = 'v' AND (c.relname LIKE 'pg\_stat\_%' OR c.relname LIKE 'pg\_statio\_%'))
               OR c.relname IN ('pg_rewrite', 'pg_rules', 'pg_db_role_setting'))
    LOOP
        EXECUTE format('REVOKE SELECT ON %s FROM PUBLIC', rel);
        EXECUTE format('GRANT SELECT ON %s TO vanguard_owner, vanguard_app', rel);
    END LOOP;
    REVOKE SELECT ON pg_catalog.pg_stats_ext_exprs FROM PUBLIC;

    -- pg_class and pg_proc stay readable column by column (names, types, kinds: what clients and
    -- information_schema read), without the size estimates and the function bodies.
    REVOKE SELECT ON pg_catalog.pg_class, pg_catalog.pg_proc FROM PUBLIC;
    GRANT SELECT ON pg_catalog.pg_class, pg_catalog.pg_proc TO vanguard_owner, vanguard_app;
    EXECUTE (
        SELECT format('GRANT SELECT (%s) ON pg_catalog.pg_class TO PUBLIC', string_agg(quote_ident(a.attname), ', '))
        FROM pg_attribute AS a
        WHERE a.attrelid = 'pg_catalog.pg_class'::regclass AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attname NOT IN ('reltuples', 'relpages', 'relallvisible', 'relallfrozen'));
    EXECUTE (
        SELECT format('GRANT SELECT (%s) ON pg_catalog.pg_proc TO PUBLIC', string_agg(quote_ident(a.attname), ', '))
        FROM pg_attribute AS a
        WHERE a.attrelid = 'pg_catalog.pg_proc'::regclass AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attname NOT IN ('prosrc', 'probin', 'prosqlbody'));
END;
$$;
