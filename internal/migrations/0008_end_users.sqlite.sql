-- 0008 end users (SQLite): the end user of a call (a platform-chosen id,
-- checked by the gateway; '' when the call named none) in the ledger, an
-- index for per-user usage queries, and the per-user daily limits of a
-- tenant's budget (NULL: no limit). Keep in step with
-- 0008_end_users.postgres.sql (migrations_test.go checks it).
ALTER TABLE usage_events ADD COLUMN end_user TEXT NOT NULL DEFAULT '';
CREATE INDEX usage_events_tenant_user_time_idx ON usage_events (tenant_id, end_user, time);
ALTER TABLE budgets ADD COLUMN per_user_daily_usd_micros INTEGER;
ALTER TABLE budgets ADD COLUMN per_user_daily_tokens INTEGER;
