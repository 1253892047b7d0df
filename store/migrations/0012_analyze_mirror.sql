-- Planner statistics after large changes: the EXPLAIN budget of NL queries and every plan over
-- the merged view depend on them, and only a table's owner may ANALYZE it.

CREATE FUNCTION vanguard.analyze_mirror() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, vanguard AS $$
BEGIN
    ANALYZE vanguard.pfa_mirror;
    ANALYZE vanguard.pfa_draft;
END;
$$;
REVOKE ALL ON FUNCTION vanguard.analyze_mirror() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vanguard.analyze_mirror() TO vanguard_app;
