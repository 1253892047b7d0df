-- name: copy_mirror_records
COPY vanguard.pfa_mirror (organization_id, id, data) FROM STDIN;

-- name: refresh_kpis
SELECT vanguard.refresh_kpis();

-- name: analyze_mirror
SELECT vanguard.analyze_mirror();
