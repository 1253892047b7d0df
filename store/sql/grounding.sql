-- Value grounding (nlq/ask/grounding.py): the caller's own vocabulary of the merged view's text
-- columns. The organization's stored values come from `records.sql: vocabulary` (the offline
-- parser's source query); these two add what changes them and the caller's own drafts.

-- name: vocabulary_version
-- Changes whenever a sync or a write-back run of the organization finishes (both write the
-- mirror); the recent runs only, by the index on (organization_id, started_at).
SELECT max(finished_at) AS version
FROM (SELECT finished_at FROM vanguard.sync_runs
      WHERE organization_id = %(org)s ORDER BY started_at DESC LIMIT 20) AS recent;

-- name: draft_vocabulary
-- Text values the caller's working drafts set (they are part of the caller's merged view);
-- other users' drafts are private to them and never listed.
SELECT DISTINCT d.key AS kind, d.value
FROM vanguard.pfa_draft AS p, jsonb_each_text(p.delta) AS d(key, value)
WHERE p.organization_id = %(org)s AND p.user_id = %(user_id)s AND p.state = 'draft'
  AND d.key = ANY(%(keys)s) AND d.value IS NOT NULL;
