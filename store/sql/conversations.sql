-- name: create_conversation
INSERT INTO vanguard.conversations (organization_id, user_id, title)
VALUES (%(org)s, %(user)s, %(title)s)
RETURNING id::text, title, turn_count, created_at, updated_at;

-- name: get_conversation
-- Only its own user, in its own organization: anyone else finds nothing (a 404).
SELECT id::text, title, turn_count, created_at, updated_at
FROM vanguard.conversations
WHERE id = %(conversation)s AND organization_id = %(org)s AND user_id = %(user)s;

-- name: list_conversations
SELECT c.id::text, c.title, c.turn_count, c.created_at, c.updated_at,
       (SELECT t.question FROM vanguard.conversation_turns AS t
         WHERE t.conversation_id = c.id ORDER BY t.position DESC LIMIT 1) AS last_question
FROM vanguard.conversations AS c
WHERE c.organization_id = %(org)s AND c.user_id = %(user)s
  AND (%(before_at)s::timestamptz IS NULL OR (c.updated_at, c.id) < (%(before_at)s::timestamptz, %(before_id)s::uuid))
ORDER BY c.updated_at DESC, c.id DESC
LIMIT %(limit)s;

-- name: rename_conversation
UPDATE vanguard.conversations SET title = %(title)s, updated_at = now()
WHERE id = %(conversation)s AND organization_id = %(org)s AND user_id = %(user)s
RETURNING id::text, title, turn_count, created_at, updated_at;

-- name: delete_conversation
DELETE FROM vanguard.conversations
WHERE id = %(conversation)s AND organization_id = %(org)s AND user_id = %(user)s
RETURNING id::text;

-- name: start_turn
-- The conversation row is locked by the UPDATE, so two questions asked at once get two positions.
WITH c AS (
    UPDATE vanguard.conversations SET turn_count = turn_count + 1, updated_at = now()
    WHERE id = %(conversation)s AND organization_id = %(org)s AND user_id = %(user)s
      AND turn_count < %(max_turns)s
    RETURNING id, turn_count
)
INSERT INTO vanguard.conversation_turns (conversation_id, position, question)
SELECT id, turn_count, %(question)s FROM c
RETURNING id, position;

-- name: earlier_turns
-- What a prompt and the offline reader may know of the conversation: questions, readings and
-- the model's own statements. Never the rows.
SELECT question, prompt_sql, reading
FROM vanguard.conversation_turns
WHERE conversation_id = %(conversation)s AND position < %(position)s AND state = 'answered'
ORDER BY position DESC
LIMIT %(limit)s;

-- name: finish_turn
-- prompt_sql: the statement as the model wrote it (the audit's last accepted attempt that ran),
-- only when a language model wrote it; the offline reader's SQL holds the organization's values.
UPDATE vanguard.conversation_turns AS t
SET state = %(state)s, audit_id = %(audit_id)s, reading = %(reading)s, executed_sql = %(executed_sql)s,
    explanation = %(explanation)s, summary = %(summary)s, columns = %(columns)s, rows = %(rows)s,
    rows_kept = %(rows_kept)s, rows_cut = %(rows_cut)s, error = %(error)s, notes = %(notes)s,
    finished_at = now(),
    prompt_sql = (
        SELECT x.attempt ->> 'sql'
        FROM vanguard.nlq_audit AS a, jsonb_array_elements(a.attempts) WITH ORDINALITY AS x(attempt, n)
        WHERE %(state)s = 'answered' AND a.id = %(audit_id)s AND a.organization_id = %(org)s
          AND a.provider IS DISTINCT FROM 'offline'
          AND (x.attempt ->> 'allowed')::boolean AND NOT x.attempt ? 'database_error'
        ORDER BY x.n DESC LIMIT 1)
WHERE t.id = %(turn_id)s;

-- name: conversation_turns
SELECT id, position, question, state, audit_id, reading, executed_sql, explanation, summary, columns, rows,
       rows_kept, rows_cut, error, notes, created_at, finished_at
FROM vanguard.conversation_turns
WHERE conversation_id = %(conversation)s
ORDER BY position;
