-- byok_audit_log: the provider-key changes of the audit trail in the shape
-- the project-scoped BYOK story queries verbatim:
--
--   select actor_id, action, provider, occurred_at from public.byok_audit_log
--   where project_id = '<tenant id>' order by occurred_at desc;
--
-- action is one of set, rotated, cleared. A rollback (key.rolled_back)
-- makes another key current, so it reads as rotated. The view is created in
-- the schema of the tables (the first schema of search_path), which is
-- public in a default deployment. It is a view, so the trail stays
-- append-only and hash-chained in audit_events alone.
CREATE VIEW byok_audit_log AS
SELECT
	seq,
	id,
	tenant_id AS project_id,
	actor_id,
	actor_name,
	CASE action
		WHEN 'key.set' THEN 'set'
		WHEN 'key.cleared' THEN 'cleared'
		ELSE 'rotated'
	END AS action,
	provider,
	key_id,
	version,
	hint,
	request_id,
	time AS occurred_at
FROM audit_events
WHERE action IN ('key.set', 'key.rotated', 'key.rolled_back', 'key.cleared')
	AND tenant_id <> '';
