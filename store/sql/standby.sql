-- name: answers_by_server
-- How many NL answers each server gave (true: the replica), from the audit's `answered_by`.
SELECT detail->>'answered_by' = 'replica' AS on_replica, count(*)
FROM vanguard.nlq_audit
WHERE detail ? 'answered_by'
GROUP BY 1;
