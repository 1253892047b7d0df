-- name: verify_audit_chain
SELECT id, organization_id,
       row_hash IS NOT DISTINCT FROM vanguard.audit_row_hash(a) AS content_ok,
       prev_hash IS NOT DISTINCT FROM lag(row_hash) OVER (ORDER BY chain_position) AS link_ok
FROM vanguard.nlq_audit AS a
ORDER BY chain_position;

-- name: insert_audit
INSERT INTO vanguard.nlq_audit (organization_id, user_id, kind, question, provider, model, prompt_template,
                                prompt_hash, prompt_tokens, llm_outputs, attempts, executed_sql, scope,
                                explain_estimate, verdict, error_code, row_count, truncated, timings, detail)
VALUES (%(organization_id)s, %(user_id)s, %(kind)s, %(question)s, %(provider)s, %(model)s, %(prompt_template)s,
        %(prompt_hash)s, %(prompt_tokens)s, %(llm_outputs)s, %(attempts)s, %(executed_sql)s, %(scope)s,
        %(explain_estimate)s, %(verdict)s, %(error_code)s, %(row_count)s, %(truncated)s, %(timings)s, %(detail)s)
RETURNING id;
