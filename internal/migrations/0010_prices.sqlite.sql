-- prices (SQLite): how each call was priced, and imported price lists.
-- Keep in step with prices.postgres.sql of the same number (migrations_test.go
-- checks it).

-- usage_events.priced: "priced" (the model's price), "estimated" (its
-- provider's fallback price) or "unpriced" (no price at all; cost 0).
-- Calls recorded before this step were priced or free by the rules then.
ALTER TABLE usage_events ADD COLUMN priced TEXT NOT NULL DEFAULT 'priced';
ALTER TABLE usage_hourly ADD COLUMN estimated_requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_hourly ADD COLUMN unpriced_requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ADD COLUMN estimated_requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ADD COLUMN unpriced_requests INTEGER NOT NULL DEFAULT 0;

-- One row per import of a price list (keygate prices import): its
-- version, when (Unix microseconds), from which source format, the SHA-256
-- of the file, the number of entries, and the entries in keygate's
-- price-file shape. The newest version overlays the built-in table.
CREATE TABLE price_imports (
	version INTEGER NOT NULL PRIMARY KEY,
	imported_at INTEGER NOT NULL,
	source TEXT NOT NULL,
	digest TEXT NOT NULL,
	entries INTEGER NOT NULL,
	skipped INTEGER NOT NULL,
	actor TEXT NOT NULL,
	prices TEXT NOT NULL
);
