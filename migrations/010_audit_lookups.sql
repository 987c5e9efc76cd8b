-- Reading the audit log by account or by person, newest first
-- (csbot audit --account acme, --actor U123) without sorting the table.
CREATE INDEX audit_log_account_at_idx ON audit_log (account_id, at DESC, id DESC);
CREATE INDEX audit_log_actor_at_idx ON audit_log (actor, at DESC, id DESC);

---- create above / drop below ----
DROP INDEX audit_log_actor_at_idx;
DROP INDEX audit_log_account_at_idx;
