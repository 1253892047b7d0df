-- name: list_commits
-- An organization's commits, newest first, with where their drafts stand: a committed draft whose
-- outbox row is pending or in flight is on its way; synced is delivered; sync_error is failed.
SELECT c.id, u.username, u.display_name, c.user_id, c.change_set_id, c.created_at,
       count(d.id) AS drafts,
       count(d.id) FILTER (WHERE d.state = 'committed') AS pending,
       count(d.id) FILTER (WHERE d.state = 'synced') AS delivered,
       count(d.id) FILTER (WHERE d.state = 'conflict') AS conflict,
       count(d.id) FILTER (WHERE d.state = 'sync_error' OR o.status = 'failed') AS failed,
       count(d.id) FILTER (WHERE d.state = 'discarded') AS discarded,
       max(greatest(d.updated_at, o.updated_at)) AS updated_at
FROM vanguard.commits AS c
JOIN vanguard.users AS u ON u.id = c.user_id
JOIN vanguard.pfa_draft AS d ON d.commit_id = c.id
LEFT JOIN vanguard.writeback_outbox AS o ON o.draft_id = d.id
WHERE c.organization_id = %(org)s
GROUP BY c.id, u.username, u.display_name
ORDER BY c.id DESC
LIMIT %(limit)s OFFSET %(offset)s;

-- name: count_commits
-- Commits that still hold a draft (one whose only conflict was kept and recommitted has none left).
SELECT count(*) FROM vanguard.commits AS c
WHERE c.organization_id = %(org)s
  AND EXISTS (SELECT 1 FROM vanguard.pfa_draft AS d WHERE d.commit_id = c.id);
