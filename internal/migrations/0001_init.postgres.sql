-- 0001 init (PostgreSQL). Keep in step with 0001_init.sqlite.sql: same
-- tables, same columns, same indexes (migrations_test.go checks it).
--
-- Conventions: timestamps are timestamptz (microsecond precision, NULL for
-- "never"); secrets' sealed forms are bytea.

CREATE TABLE tenants (
	id TEXT NOT NULL PRIMARY KEY,
	name TEXT NOT NULL,
	byok_enabled BOOLEAN NOT NULL DEFAULT FALSE,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT tenants_name_key UNIQUE (name)
);

-- One row per owner and provider. owner is a tenant id or 'platform', so it
-- has no foreign key; DeleteTenant removes a tenant's keys explicitly.
CREATE TABLE provider_keys (
	id TEXT NOT NULL PRIMARY KEY,
	owner TEXT NOT NULL,
	provider TEXT NOT NULL,
	current_version INTEGER NOT NULL DEFAULT 0,
	status TEXT NOT NULL DEFAULT 'unknown',
	last_checked_at TIMESTAMPTZ,
	last_error TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT provider_keys_owner_provider_key UNIQUE (owner, provider)
);

-- One row per version of a key. The current version is provider_keys.
-- current_version; the others were superseded (superseded_at: when they
-- stopped being current, NULL while current) and can be rolled back to until
-- they are destroyed (destroyed_at set, ciphertext and wrapped_dek NULL:
-- only the metadata stays, for the audit trail).
CREATE TABLE provider_key_versions (
	key_id TEXT NOT NULL REFERENCES provider_keys (id) ON DELETE CASCADE,
	version INTEGER NOT NULL,
	ciphertext BYTEA,
	wrapped_dek BYTEA,
	kek_id TEXT NOT NULL,
	hint TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	superseded_at TIMESTAMPTZ,
	destroyed_at TIMESTAMPTZ,
	PRIMARY KEY (key_id, version)
);

CREATE INDEX provider_key_versions_kek_id_idx ON provider_key_versions (kek_id);

-- Sealed server settings (for example the fingerprint secret).
CREATE TABLE settings (
	name TEXT NOT NULL PRIMARY KEY,
	ciphertext BYTEA NOT NULL,
	wrapped_dek BYTEA NOT NULL,
	kek_id TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX settings_kek_id_idx ON settings (kek_id);

CREATE TABLE admin_tokens (
	id TEXT NOT NULL PRIMARY KEY,
	name TEXT NOT NULL,
	role TEXT NOT NULL,
	tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
	hash BYTEA NOT NULL,
	created_by TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	revoked_at TIMESTAMPTZ,
	CONSTRAINT admin_tokens_hash_key UNIQUE (hash)
);

CREATE INDEX admin_tokens_tenant_id_idx ON admin_tokens (tenant_id);

-- Only a token's SHA-256 hash is stored. Revoked tokens stay (revoked_at set)
-- so that a lookup can tell "revoked" from "unknown".
CREATE TABLE gateway_tokens (
	id TEXT NOT NULL PRIMARY KEY,
	name TEXT NOT NULL,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	hash BYTEA NOT NULL,
	prefix TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	revoked_at TIMESTAMPTZ,
	CONSTRAINT gateway_tokens_hash_key UNIQUE (hash)
);

CREATE INDEX gateway_tokens_tenant_id_idx ON gateway_tokens (tenant_id);

-- provider '' is the tenant's default policy.
CREATE TABLE policies (
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	provider TEXT NOT NULL,
	mode TEXT NOT NULL,
	allow_request_keys BOOLEAN NOT NULL DEFAULT FALSE,
	fallback_on_error BOOLEAN NOT NULL DEFAULT FALSE,
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, provider)
);

-- Append-only and hash-chained. Empty strings are stored as '' (never NULL)
-- so that a row read back hashes exactly as it was written.
CREATE TABLE audit_events (
	seq BIGINT NOT NULL PRIMARY KEY,
	id TEXT NOT NULL,
	time TIMESTAMPTZ NOT NULL,
	actor_id TEXT NOT NULL,
	actor_name TEXT NOT NULL,
	tenant_id TEXT NOT NULL,
	provider TEXT NOT NULL,
	action TEXT NOT NULL,
	key_id TEXT NOT NULL,
	version INTEGER NOT NULL,
	hint TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	request_id TEXT NOT NULL,
	detail TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL,
	CONSTRAINT audit_events_id_key UNIQUE (id)
);

CREATE INDEX audit_events_tenant_id_idx ON audit_events (tenant_id, seq);
CREATE INDEX audit_events_provider_idx ON audit_events (provider, seq);
CREATE INDEX audit_events_action_idx ON audit_events (action, seq);
CREATE INDEX audit_events_time_idx ON audit_events (time);

-- The chain head, kept apart from the rows: appends serialize on its row
-- lock, and a deleted last row shows as a head that no row matches.
CREATE TABLE audit_head (
	id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	seq BIGINT NOT NULL,
	hash TEXT NOT NULL
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- The audit trail is append-only: the application never updates or deletes
-- a row, and this trigger makes the database refuse it too. (A superuser can
-- still drop it; the hash chain is what detects that.)
CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_events is append-only';
END;
$$;

CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
