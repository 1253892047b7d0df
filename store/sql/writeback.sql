-- name: insert_commit
INSERT INTO vanguard.commits (organization_id, user_id, change_set_id)
VALUES (%(org)s, %(user_id)s, %(change_set_id)s)
RETURNING id;

-- name: lock_working_drafts
SELECT d.id, d.record_id, d.delta, d.base, m.data, m.pems_record_id, m.deleted_at IS NOT NULL
FROM vanguard.pfa_draft AS d
JOIN vanguard.pfa_mirror AS m ON m.organization_id = d.organization_id AND m.id = d.record_id
WHERE d.organization_id = %(org)s
  AND d.user_id = %(user_id)s
  AND d.state = 'draft'
  AND (%(change_set_id)s::bigint IS NULL OR d.change_set_id = %(change_set_id)s::bigint)
  AND (%(record_ids)s::text[] IS NULL OR d.record_id = ANY(%(record_ids)s::text[]))
ORDER BY d.id
FOR UPDATE OF d;

-- name: mark_committed
UPDATE vanguard.pfa_draft AS d
   SET state = 'committed', commit_id = %(commit_id)s, base_version = m.pems_record_id::text,
       detail = NULL, updated_at = now()
  FROM vanguard.pfa_mirror AS m
 WHERE d.id = ANY(%(ids)s)
   AND m.organization_id = d.organization_id AND m.id = d.record_id;

-- name: enqueue_writes
INSERT INTO vanguard.writeback_outbox (organization_id, draft_id, record_id, idempotency_key, payload)
SELECT d.organization_id, d.id, d.record_id, gen_random_uuid(),
       jsonb_build_object('changes', d.delta, 'base', d.base, 'recordid', m.pems_record_id)
FROM vanguard.pfa_draft AS d
JOIN vanguard.pfa_mirror AS m ON m.organization_id = d.organization_id AND m.id = d.record_id
WHERE d.id = ANY(%(ids)s);

-- name: mark_draft_conflict
UPDATE vanguard.pfa_draft
   SET state = 'conflict', commit_id = %(commit_id)s, detail = %(detail)s, updated_at = now()
 WHERE id = %(id)s;

-- name: claim_outbox
-- Due rows, and rows whose lease ran out (their worker died or stalled), get a new owner and a
-- new lease token; the old owner's fenced updates then match nothing.
UPDATE vanguard.writeback_outbox AS o
   SET status = 'in_flight', attempts = o.attempts + 1, claimed_by = %(worker)s,
       lease_token = gen_random_uuid(), updated_at = now()
 WHERE o.id IN (
        SELECT id FROM vanguard.writeback_outbox
        WHERE ((status = 'pending' AND next_attempt_at <= now())
            OR (status = 'in_flight' AND updated_at < now() - make_interval(secs => %(lease_seconds)s)))
          AND (%(org)s::text IS NULL OR organization_id = %(org)s::text)
        ORDER BY id
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED)
RETURNING o.id, o.organization_id, o.draft_id, o.record_id, o.idempotency_key::text, o.payload, o.attempts,
          o.lease_token::text, o.key_sent_at IS NOT NULL;

-- name: renew_claim
-- Before each send: still ours? Renews the lease and notes that the key may now reach PEMS.
UPDATE vanguard.writeback_outbox
   SET updated_at = now(), key_sent_at = coalesce(key_sent_at, now())
 WHERE id = %(id)s AND claimed_by = %(worker)s AND lease_token = %(token)s::uuid AND status = 'in_flight'
RETURNING id;

-- name: apply_pems_record
-- Only a newer PEMS version replaces the mirror's: an idempotent replay carries PEMS's first
-- answer, which may be older than what a sync has stored since.
UPDATE vanguard.pfa_mirror
   SET data = %(data)s, pems_record_id = %(pems_record_id)s, last_synced_at = now(), deleted_at = NULL
 WHERE organization_id = %(org)s AND id = %(record_id)s
   AND (pems_record_id IS NULL OR pems_record_id < %(pems_record_id)s::bigint);

-- name: finish_delivery
-- The outbox row and its draft end together, and only while the claim is still ours.
WITH fenced AS (
    UPDATE vanguard.writeback_outbox
       SET status = %(status)s, last_error = %(error)s, updated_at = now()
     WHERE id = %(id)s AND claimed_by = %(worker)s AND lease_token = %(token)s::uuid AND status = 'in_flight'
    RETURNING draft_id
)
UPDATE vanguard.pfa_draft AS d
   SET state = %(state)s, detail = %(detail)s, updated_at = now()
  FROM fenced
 WHERE d.id = fenced.draft_id
RETURNING d.id;

-- name: retry_outbox_later
UPDATE vanguard.writeback_outbox
   SET status = 'pending', last_error = %(error)s, next_attempt_at = now() + make_interval(secs => %(delay)s),
       updated_at = now()
 WHERE id = %(id)s AND claimed_by = %(worker)s AND lease_token = %(token)s::uuid AND status = 'in_flight'
RETURNING id;

-- name: rebase_outbox
-- A new payload is a new request: a new idempotency key, not yet sent.
UPDATE vanguard.writeback_outbox
   SET status = 'pending', payload = %(payload)s, idempotency_key = gen_random_uuid(), key_sent_at = NULL,
       next_attempt_at = now(), last_error = %(error)s, updated_at = now()
 WHERE id = %(id)s AND claimed_by = %(worker)s AND lease_token = %(token)s::uuid AND status = 'in_flight'
RETURNING id;
