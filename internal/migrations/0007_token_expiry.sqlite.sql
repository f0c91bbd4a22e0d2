-- 0006 token expiry and last use (SQLite): admin and gateway tokens may
-- expire (NULL: never) and record, coarsely, when they last authenticated
-- (NULL: not yet recorded). Keep in step with 0006_token_expiry.postgres.sql
-- (migrations_test.go checks it).
ALTER TABLE admin_tokens ADD COLUMN expires_at INTEGER;
ALTER TABLE admin_tokens ADD COLUMN last_used_at INTEGER;
ALTER TABLE gateway_tokens ADD COLUMN expires_at INTEGER;
ALTER TABLE gateway_tokens ADD COLUMN last_used_at INTEGER;
