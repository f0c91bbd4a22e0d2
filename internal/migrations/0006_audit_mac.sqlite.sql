-- audit_mac (SQLite): the audit chain is sealed by keyed MACs. Each event
-- names the audit MAC key ("ak_...") whose HMAC its hash is; events
-- written before keep '' and their plain SHA-256. The keys themselves are
-- sealed settings named "audit_key:ak_..." (wrapped by the master key like
-- every data key, so the rewrap job moves them). Keep in step with the
-- PostgreSQL file of this step (migrations_test.go checks it).
ALTER TABLE audit_events ADD COLUMN mac_key_id TEXT NOT NULL DEFAULT '';
