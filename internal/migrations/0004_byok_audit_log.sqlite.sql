-- byok_audit_log: the provider-key changes of the audit trail in the shape
-- the project-scoped BYOK story queries (see the postgres twin of this
-- file). SQLite has no schemas: query it as byok_audit_log. occurred_at is
-- an RFC 3339 UTC text with microseconds ("2026-01-05T10:30:15.123456Z"),
-- fixed width, so it sorts in time order.
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
	strftime('%Y-%m-%dT%H:%M:%S', time / 1000000, 'unixepoch') || printf('.%06dZ', time % 1000000) AS occurred_at
FROM audit_events
WHERE action IN ('key.set', 'key.rotated', 'key.rolled_back', 'key.cleared')
	AND tenant_id <> '';
