-- 0002 governance (SQLite): the usage ledger, its rollups, budgets and rate
-- limits. Keep in step with 0002_governance.postgres.sql (migrations_test.go
-- checks it). Same conventions as 0001.

-- One row per proxied call. No foreign key to tenants: usage is billing
-- history and outlives a deleted tenant. Empty strings, never NULL.
CREATE TABLE usage_events (
	seq INTEGER NOT NULL PRIMARY KEY,
	request_id TEXT NOT NULL,
	time INTEGER NOT NULL,
	tenant_id TEXT NOT NULL,
	provider TEXT NOT NULL,
	model TEXT NOT NULL,
	route TEXT NOT NULL,
	key_source TEXT NOT NULL,
	key_id TEXT NOT NULL,
	key_version INTEGER NOT NULL,
	input_tokens INTEGER NOT NULL,
	output_tokens INTEGER NOT NULL,
	cached_tokens INTEGER NOT NULL,
	status INTEGER NOT NULL,
	latency_us INTEGER NOT NULL,
	streamed INTEGER NOT NULL,
	canceled INTEGER NOT NULL,
	cost_micros INTEGER NOT NULL,
	billable INTEGER NOT NULL
) STRICT;

CREATE INDEX usage_events_tenant_time_idx ON usage_events (tenant_id, time);
CREATE INDEX usage_events_time_idx ON usage_events (time);

-- Rollups of usage_events, maintained by the same transaction that inserts
-- the events. bucket_start is the UTC hour (usage_hourly) or UTC midnight
-- (usage_daily) the calls started in. billable_cost_micros is the part of
-- cost_micros that counts toward platform credits.
CREATE TABLE usage_hourly (
	tenant_id TEXT NOT NULL,
	provider TEXT NOT NULL,
	model TEXT NOT NULL,
	key_source TEXT NOT NULL,
	bucket_start INTEGER NOT NULL,
	requests INTEGER NOT NULL,
	input_tokens INTEGER NOT NULL,
	output_tokens INTEGER NOT NULL,
	cached_tokens INTEGER NOT NULL,
	cost_micros INTEGER NOT NULL,
	billable_cost_micros INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, provider, model, key_source, bucket_start)
) STRICT;

CREATE INDEX usage_hourly_bucket_idx ON usage_hourly (bucket_start);

CREATE TABLE usage_daily (
	tenant_id TEXT NOT NULL,
	provider TEXT NOT NULL,
	model TEXT NOT NULL,
	key_source TEXT NOT NULL,
	bucket_start INTEGER NOT NULL,
	requests INTEGER NOT NULL,
	input_tokens INTEGER NOT NULL,
	output_tokens INTEGER NOT NULL,
	cached_tokens INTEGER NOT NULL,
	cost_micros INTEGER NOT NULL,
	billable_cost_micros INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, provider, model, key_source, bucket_start)
) STRICT;

CREATE INDEX usage_daily_bucket_idx ON usage_daily (bucket_start);

-- One row per tenant that set a budget; NULL limits are no limit.
CREATE TABLE budgets (
	tenant_id TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
	daily_usd_micros INTEGER,
	monthly_usd_micros INTEGER,
	daily_tokens INTEGER,
	monthly_tokens INTEGER,
	hard INTEGER NOT NULL,
	applies_to TEXT NOT NULL,
	byok_billing TEXT NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

-- provider '' caps every provider together.
CREATE TABLE rate_limits (
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	provider TEXT NOT NULL,
	rpm INTEGER NOT NULL,
	tpm INTEGER NOT NULL,
	applies_to TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, provider)
) STRICT;
