-- name: verify_audit_chain
SELECT id, organization_id,
       row_hash IS NOT DISTINCT FROM vanguard.audit_row_hash(a) AS content_ok,
       prev_hash IS NOT DISTINCT FROM lag(row_hash) OVER (ORDER BY chain_position) AS link_ok
FROM vanguard.nlq_audit AS a
ORDER BY chain_position;

-- name: insert_audit
INSERT INTO vanguard.nlq_audit (organization_id, user_id, kind, question, provider, model, prompt_template,
                                prompt_hash, prompt_tokens, llm_outputs, attempts, executed_sql, scope,
                                explain_estimate, verdict, error_code, row_count, truncated, timings, detail,
                                conversation_id)
VALUES (%(organization_id)s, %(user_id)s, %(kind)s, %(question)s, %(provider)s, %(model)s, %(prompt_template)s,
        %(prompt_hash)s, %(prompt_tokens)s, %(llm_outputs)s, %(attempts)s, %(executed_sql)s, %(scope)s,
        %(explain_estimate)s, %(verdict)s, %(error_code)s, %(row_count)s, %(truncated)s, %(timings)s, %(detail)s,
        %(conversation_id)s)
RETURNING id;

-- name: list_audit
SELECT a.id, a.created_at, a.user_id, u.username, a.kind, a.question, a.provider, a.model, a.verdict,
       a.error_code, a.row_count, a.truncated, a.timings, a.executed_sql, a.conversation_id::text,
       (SELECT coalesce(jsonb_agg(DISTINCT r -> 'code'), '[]') FROM jsonb_array_elements(a.attempts) AS t(att),
               jsonb_array_elements(att -> 'reasons') AS r) AS reason_codes
FROM vanguard.nlq_audit AS a
LEFT JOIN vanguard.users AS u ON u.id = a.user_id
WHERE a.organization_id = %(org)s
  AND (%(verdict)s::text IS NULL OR a.verdict = %(verdict)s::text)
  AND (%(error_code)s::text IS NULL OR a.error_code = %(error_code)s::text)
  AND (%(username)s::text IS NULL OR u.username = %(username)s::text)
  AND (%(since)s::timestamptz IS NULL OR a.created_at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR a.created_at < %(until)s::timestamptz)
  AND (%(text)s::text IS NULL OR a.question ILIKE %(text)s::text OR a.executed_sql ILIKE %(text)s::text)
  AND (%(before_id)s::bigint IS NULL OR a.id < %(before_id)s::bigint)
  AND (%(conversation)s::uuid IS NULL OR a.conversation_id = %(conversation)s::uuid)
ORDER BY a.id DESC
LIMIT %(limit)s;

-- name: get_audit
SELECT a.*, u.username
FROM vanguard.nlq_audit AS a
LEFT JOIN vanguard.users AS u ON u.id = a.user_id
WHERE a.organization_id = %(org)s AND a.id = %(audit_id)s;

-- name: audit_counts_by_verdict
SELECT verdict, coalesce(error_code, ''), count(*) FROM vanguard.nlq_audit
WHERE organization_id = %(org)s GROUP BY 1, 2 ORDER BY 1, 2;

-- name: audit_counts_by_reason
SELECT r ->> 'code', count(*)
FROM vanguard.nlq_audit AS a, jsonb_array_elements(a.attempts) AS t(att), jsonb_array_elements(att -> 'reasons') AS r
WHERE a.organization_id = %(org)s
GROUP BY 1 ORDER BY 2 DESC, 1;

-- name: export_audit_jsonl
COPY (SELECT row_to_json(a) FROM (SELECT * FROM vanguard.nlq_audit WHERE organization_id = %(org)s ORDER BY id) AS a)
TO STDOUT (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02');

-- name: export_audit_csv
-- Rows, not COPY ... CSV: every cell goes through nlq.csv_export.safe_cell (no spreadsheet formulas).
SELECT id, created_at, organization_id, user_id, kind, question, provider, model, verdict, error_code,
       row_count, truncated, executed_sql, timings::text AS timings, conversation_id::text, row_hash
FROM vanguard.nlq_audit WHERE organization_id = %(org)s ORDER BY id;

-- name: lock_audit_sealing
SELECT pg_advisory_xact_lock(hashtextextended('vanguard.nlq_audit.seal', 0));

-- name: last_audit_seal
SELECT chain_position, mac FROM vanguard.nlq_audit_seal ORDER BY chain_position DESC LIMIT 1;

-- name: unsealed_audit_entries
-- The sealed content (store/audit_seal.py SEALED_FIELDS, same order): the time as a UTC epoch and
-- JSON as the database's canonical jsonb text, so no session setting changes what is sealed.
SELECT a.chain_position,
       a.id, extract(epoch FROM a.created_at)::text, a.organization_id, a.user_id, a.kind, a.question,
       a.provider, a.model, a.prompt_template, a.prompt_hash, a.prompt_tokens, a.llm_outputs::text,
       a.attempts::text, a.executed_sql, a.scope::text, a.explain_estimate::text, a.verdict, a.error_code,
       a.row_count, a.truncated, a.timings::text, a.detail::text, a.chain_version, a.conversation_id::text
FROM vanguard.nlq_audit AS a
WHERE a.chain_position > %(after)s
ORDER BY a.chain_position
LIMIT %(limit)s;

-- name: insert_audit_seal
INSERT INTO vanguard.nlq_audit_seal (chain_position, audit_id, organization_id, mac)
VALUES (%(chain_position)s, %(audit_id)s, %(organization_id)s, %(mac)s);

-- name: audit_seal_at
SELECT mac FROM vanguard.nlq_audit_seal WHERE chain_position = %(position)s;

-- name: verify_audit_ledger
-- Every position that has an entry, a seal or both, in chain order; entries without a position
-- (written before the chain existed) come last. content_ok is the database's own hash: sha256
-- over the epoch time (chain_version 2) or, for legacy entries, over the row's text rendering.
SELECT coalesce(a.chain_position, s.chain_position),
       a.id, extract(epoch FROM a.created_at)::text, a.organization_id, a.user_id, a.kind, a.question,
       a.provider, a.model, a.prompt_template, a.prompt_hash, a.prompt_tokens, a.llm_outputs::text,
       a.attempts::text, a.executed_sql, a.scope::text, a.explain_estimate::text, a.verdict, a.error_code,
       a.row_count, a.truncated, a.timings::text, a.detail::text, a.chain_version, a.conversation_id::text,
       a.id IS NOT NULL AS present, a.prev_hash, a.row_hash,
       CASE WHEN a.chain_version = 2 THEN a.row_hash = vanguard.audit_row_hash_v2(a)
            ELSE a.row_hash = vanguard.audit_row_hash_v1(a) END AS content_ok,
       s.audit_id, s.organization_id, s.mac
FROM vanguard.nlq_audit AS a
FULL JOIN vanguard.nlq_audit_seal AS s ON s.chain_position = a.chain_position
ORDER BY 1 NULLS LAST, a.id;

-- name: use_default_timezone
-- Legacy entries were hashed over their time as text in the writer's TimeZone: the server's
-- default, not whatever this session set.
SET LOCAL TimeZone TO DEFAULT;
