-- Ending all of a user's sessions at once. Every access token carries the user's session
-- generation at login; `current_user` compares it with this column on every request (in the
-- same lookup as the memberships), so bumping it refuses every older token in every API process
-- at once, with no list of tokens to keep. Tokens issued before this column existed carry none
-- and count as generation 0.
ALTER TABLE vanguard.users ADD COLUMN session_generation integer NOT NULL DEFAULT 0
    CHECK (session_generation >= 0);
