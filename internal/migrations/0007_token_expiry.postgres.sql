-- 0006 token expiry and last use (PostgreSQL): admin and gateway tokens may
-- expire (NULL: never) and record, coarsely, when they last authenticated
-- (NULL: not yet recorded). Keep in step with 0006_token_expiry.sqlite.sql
-- (migrations_test.go checks it).
ALTER TABLE admin_tokens ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE admin_tokens ADD COLUMN last_used_at TIMESTAMPTZ;
ALTER TABLE gateway_tokens ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE gateway_tokens ADD COLUMN last_used_at TIMESTAMPTZ;

-- Recording a last use changes nothing a replica caches: the change feed's
-- trigger fires on every other column only, so that a use does not evict
-- the token from every replica's cache.
DROP TRIGGER gateway_tokens_notify ON gateway_tokens;
CREATE TRIGGER gateway_tokens_notify AFTER INSERT OR DELETE OR UPDATE OF id, name, tenant_id, hash, prefix, created_by, created_at, revoked_at, expires_at ON gateway_tokens
FOR EACH ROW EXECUTE FUNCTION keygate_notify_token();
