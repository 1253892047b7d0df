-- What the app role may do with the base tables, and the one thing the reader may read.

GRANT USAGE ON SCHEMA vanguard TO vanguard_app;
GRANT USAGE ON SCHEMA nlq TO vanguard_app, vanguard_reader;

GRANT SELECT, INSERT, UPDATE, DELETE ON
    vanguard.organizations, vanguard.users, vanguard.memberships, vanguard.pfa_mirror,
    vanguard.change_sets, vanguard.pfa_draft, vanguard.sync_runs, vanguard.writeback_outbox
    TO vanguard_app;
GRANT SELECT, INSERT ON vanguard.nlq_audit TO vanguard_app;
GRANT SELECT ON vanguard.schema_migrations, vanguard.kpi_category_source, vanguard.kpi_timeline
    TO vanguard_app;
GRANT EXECUTE ON FUNCTION vanguard.refresh_kpis() TO vanguard_app;

GRANT SELECT ON nlq.pfa_merged TO vanguard_app, vanguard_reader;
