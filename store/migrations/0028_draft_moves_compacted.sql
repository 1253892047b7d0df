-- How many rows of draft moves (kpi_draft_delta, matrix_draft_delta) each user had right after
-- their last compaction. A read compacts when the moves have grown by a threshold since then, not
-- when they exceed it: a user whose compacted moves are already past the threshold (10,000 drafts
-- over many months and areas leave thousands of rows) otherwise rewrote all of them, and
-- committed, on every read of the matrix.
CREATE TABLE vanguard.draft_moves_compacted (
    organization_id text NOT NULL,
    user_id         bigint NOT NULL,
    moves           text NOT NULL CHECK (moves IN ('kpi', 'matrix')),
    row_count       bigint NOT NULL,
    PRIMARY KEY (organization_id, user_id, moves)
);

GRANT SELECT, INSERT, UPDATE ON vanguard.draft_moves_compacted TO vanguard_app;
