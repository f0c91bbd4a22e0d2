-- Gateway token scopes (SQLite): a token may carry a scope, the JSON of
-- keygate.TokenScope (allowed providers and models, its own budget and
-- rate limits; '' for none), and every usage event names the gateway token
-- that made the call ('' for events written before this step), so that
-- usage can be grouped by token. Keep in step with
-- 0008_token_scope.postgres.sql (migrations_test.go checks it).
ALTER TABLE gateway_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_events ADD COLUMN token_id TEXT NOT NULL DEFAULT '';

CREATE INDEX usage_events_tenant_token_time_idx ON usage_events (tenant_id, token_id, time);
