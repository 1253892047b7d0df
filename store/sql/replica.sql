-- name: draft_mark
-- The caller's mark on the primary: how many statements have written their drafts.
SELECT seq FROM vanguard.draft_marks WHERE organization_id = %(org)s AND user_id = %(user_id)s;

-- name: primary_position
SELECT pg_current_wal_lsn();

-- name: replica_position
SELECT in_recovery, replay_lsn, replayed_at, extract(epoch FROM clock_timestamp() - replayed_at)
FROM nlq.replay_position();

-- name: in_recovery
SELECT in_recovery FROM nlq.replay_position();
