-- Change notifications: every change to what the gateway caches (tenants,
-- their policies, budgets and limits, provider keys, gateway tokens) sends
-- a NOTIFY on the channel keygate_changes when its transaction commits, so
-- every replica drops its cached copy within a second. The payload is
-- "<schema>|<kind>|<tenant or owner>|<provider or token id>"; replicas
-- ignore other schemas' changes.

CREATE FUNCTION keygate_notify_tenant() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
	PERFORM pg_notify('keygate_changes', current_schema() || '|tenant|' || r.id || '|');
	RETURN NULL;
END;
$$;

CREATE FUNCTION keygate_notify_tenant_setting() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
	PERFORM pg_notify('keygate_changes', current_schema() || '|tenant|' || r.tenant_id || '|');
	RETURN NULL;
END;
$$;

CREATE FUNCTION keygate_notify_key() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	-- A health check changes status columns only: the key itself did not
	-- change, so caches need not drop it.
	IF TG_OP = 'UPDATE' AND NEW.current_version = OLD.current_version AND NEW.id = OLD.id THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
	PERFORM pg_notify('keygate_changes', current_schema() || '|key|' || r.owner || '|' || r.provider);
	RETURN NULL;
END;
$$;

CREATE FUNCTION keygate_notify_token() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
	PERFORM pg_notify('keygate_changes', current_schema() || '|token|' || r.tenant_id || '|' || r.id);
	RETURN NULL;
END;
$$;

CREATE TRIGGER tenants_notify AFTER INSERT OR UPDATE OR DELETE ON tenants
FOR EACH ROW EXECUTE FUNCTION keygate_notify_tenant();
CREATE TRIGGER policies_notify AFTER INSERT OR UPDATE OR DELETE ON policies
FOR EACH ROW EXECUTE FUNCTION keygate_notify_tenant_setting();
CREATE TRIGGER budgets_notify AFTER INSERT OR UPDATE OR DELETE ON budgets
FOR EACH ROW EXECUTE FUNCTION keygate_notify_tenant_setting();
CREATE TRIGGER rate_limits_notify AFTER INSERT OR UPDATE OR DELETE ON rate_limits
FOR EACH ROW EXECUTE FUNCTION keygate_notify_tenant_setting();
CREATE TRIGGER provider_keys_notify AFTER INSERT OR UPDATE OR DELETE ON provider_keys
FOR EACH ROW EXECUTE FUNCTION keygate_notify_key();
CREATE TRIGGER gateway_tokens_notify AFTER INSERT OR UPDATE OR DELETE ON gateway_tokens
FOR EACH ROW EXECUTE FUNCTION keygate_notify_token();
