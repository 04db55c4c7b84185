-- Spent refresh tokens stay while their session lives, so a family grows by one row per
-- rotation. A rotation spends the family's unspent tokens (one, or a few siblings after a
-- lost answer): through this index it reads those, not the whole family. spent_at is a
-- column of it so that the planner sees both of the rotation's terms matched here and
-- prefers it to the index below even without statistics.
CREATE INDEX refresh_tokens_unspent ON refresh_tokens (session_id, spent_at) WHERE spent_at IS NULL;
-- The sessions list shows each session's latest refresh, read off this index's end.
DROP INDEX refresh_tokens_by_session;
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id, issued_at);
