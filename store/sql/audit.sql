-- name: verify_audit_chain
SELECT id, organization_id,
       row_hash IS NOT DISTINCT FROM vanguard.audit_row_hash(a) AS content_ok,
       prev_hash IS NOT DISTINCT FROM lag(row_hash) OVER (ORDER BY chain_position) AS link_ok
FROM vanguard.nlq_audit AS a
ORDER BY chain_position;
