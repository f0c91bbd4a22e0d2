-- prices (PostgreSQL): how each call was priced, and imported price lists.
-- Keep in step with prices.sqlite.sql of the same number (migrations_test.go
-- checks it).

-- usage_events.priced: "priced" (the model's price), "estimated" (its
-- provider's fallback price) or "unpriced" (no price at all; cost 0).
-- Calls recorded before this step were priced or free by the rules then.
ALTER TABLE usage_events ADD COLUMN priced TEXT NOT NULL DEFAULT 'priced';
ALTER TABLE usage_hourly ADD COLUMN estimated_requests BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_hourly ADD COLUMN unpriced_requests BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ADD COLUMN estimated_requests BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ADD COLUMN unpriced_requests BIGINT NOT NULL DEFAULT 0;

-- One row per import of a price list (keygate prices import): its
-- version, when, from which source format, the SHA-256 of the file, the
-- number of entries, and the entries in keygate's price-file shape. The
-- newest version overlays the built-in table.
CREATE TABLE price_imports (
	version BIGINT NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	imported_at TIMESTAMPTZ NOT NULL,
	source TEXT NOT NULL,
	digest TEXT NOT NULL,
	entries INTEGER NOT NULL,
	skipped INTEGER NOT NULL,
	actor TEXT NOT NULL,
	prices TEXT NOT NULL
);

-- An import changes the prices every replica costs calls at: each hears it
-- on keygate_changes and reloads its table.
CREATE FUNCTION keygate_notify_prices() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('keygate_changes', current_schema() || '|prices||' || NEW.version);
	RETURN NULL;
END;
$$;

CREATE TRIGGER price_imports_notify AFTER INSERT ON price_imports
FOR EACH ROW EXECUTE FUNCTION keygate_notify_prices();
