-- name: insert_example
INSERT INTO vanguard.golden_examples (organization_id, source_audit_id, question, sql, created_by, updated_by)
VALUES (%(org)s, %(audit_id)s, %(question)s, %(sql)s, %(user_id)s, %(user_id)s)
RETURNING id;

-- name: list_examples
SELECT e.id, e.question, e.sql, e.source_audit_id, e.created_at, c.username AS created_by, e.updated_at,
       u.username AS updated_by, e.retired_at, r.username AS retired_by
FROM vanguard.golden_examples AS e
LEFT JOIN vanguard.users AS c ON c.id = e.created_by
LEFT JOIN vanguard.users AS u ON u.id = e.updated_by
LEFT JOIN vanguard.users AS r ON r.id = e.retired_by
WHERE e.organization_id = %(org)s
  AND (%(include_retired)s OR e.retired_at IS NULL)
  AND (%(before_id)s::bigint IS NULL OR e.id < %(before_id)s::bigint)
ORDER BY e.id DESC
LIMIT %(limit)s;

-- name: get_example
SELECT e.id, e.question, e.sql, e.source_audit_id, e.created_at, c.username AS created_by, e.updated_at,
       u.username AS updated_by, e.retired_at, r.username AS retired_by
FROM vanguard.golden_examples AS e
LEFT JOIN vanguard.users AS c ON c.id = e.created_by
LEFT JOIN vanguard.users AS u ON u.id = e.updated_by
LEFT JOIN vanguard.users AS r ON r.id = e.retired_by
WHERE e.organization_id = %(org)s AND e.id = %(example_id)s;

-- name: lock_example
SELECT retired_at IS NOT NULL FROM vanguard.golden_examples
WHERE organization_id = %(org)s AND id = %(example_id)s
FOR UPDATE;

-- name: update_example
UPDATE vanguard.golden_examples
SET question = %(question)s, sql = %(sql)s, updated_by = %(user_id)s, updated_at = now()
WHERE organization_id = %(org)s AND id = %(example_id)s;

-- name: retire_example
-- Retiring twice keeps the first retirement's time and author.
UPDATE vanguard.golden_examples
SET retired_at = coalesce(retired_at, now()), retired_by = coalesce(retired_by, %(user_id)s)
WHERE organization_id = %(org)s AND id = %(example_id)s
RETURNING id;

-- name: similar_examples
-- The organization's active examples whose question shares words (English stems, stop words
-- dropped) with this one: at least two, or all of them when the question has fewer, so that "how
-- many ..." alone does not make every counting example "similar". Best ts_rank first.
WITH words AS (
    SELECT DISTINCT t.lexeme FROM unnest(to_tsvector('english', %(question)s)) AS t(lexeme, positions, weights)
), query AS (
    SELECT vanguard.tsquery_any(plainto_tsquery('simple', lexeme)) AS q, count(*) AS n FROM words
)
SELECT e.id, e.question, e.sql, ts_rank(e.search, query.q) AS rank
FROM vanguard.golden_examples AS e, query
WHERE e.organization_id = %(org)s AND e.retired_at IS NULL AND e.search @@ query.q
  AND (SELECT count(*) FROM words WHERE e.search @@ plainto_tsquery('simple', words.lexeme)) >= least(2, query.n)
ORDER BY rank DESC, e.id DESC
LIMIT %(limit)s;

-- name: audit_source_for_example
SELECT id, kind, verdict, question, attempts, user_id
FROM vanguard.nlq_audit
WHERE organization_id = %(org)s AND id = %(audit_id)s;

-- name: own_answer
SELECT id FROM vanguard.nlq_audit
WHERE organization_id = %(org)s AND id = %(audit_id)s AND user_id = %(user_id)s AND kind = 'query';

-- name: upsert_rating
INSERT INTO vanguard.answer_ratings (organization_id, audit_id, user_id, rating)
VALUES (%(org)s, %(audit_id)s, %(user_id)s, %(rating)s)
ON CONFLICT (audit_id, user_id) DO UPDATE SET rating = EXCLUDED.rating, updated_at = now()
RETURNING rating, created_at, updated_at;

-- name: get_rating
SELECT rating, created_at, updated_at FROM vanguard.answer_ratings
WHERE organization_id = %(org)s AND audit_id = %(audit_id)s AND user_id = %(user_id)s;

-- name: list_down_rated
-- Down-rated answers, newest rating first, with the examples already made from each.
SELECT a.id AS audit_id, a.question, a.executed_sql, a.attempts, a.created_at AS answered_at,
       u.username, r.updated_at AS rated_at,
       (SELECT coalesce(jsonb_agg(e.id ORDER BY e.id), '[]') FROM vanguard.golden_examples AS e
        WHERE e.organization_id = a.organization_id AND e.source_audit_id = a.id) AS example_ids
FROM vanguard.answer_ratings AS r
JOIN vanguard.nlq_audit AS a ON a.id = r.audit_id AND a.organization_id = r.organization_id
LEFT JOIN vanguard.users AS u ON u.id = r.user_id
WHERE r.organization_id = %(org)s AND r.rating = 'down'
ORDER BY r.updated_at DESC, r.audit_id DESC
LIMIT %(limit)s;
