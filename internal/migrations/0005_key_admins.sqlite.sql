-- 0005 key_admins (SQLite): who among a tenant's own admin tokens may change
-- its provider keys. owner_and_admin (the default, what every tenant had
-- before) or owner_only; the application validates the value, as it does
-- for every other enumerated column. Keep in step with
-- 0005_key_admins.postgres.sql (migrations_test.go checks it).
ALTER TABLE tenants ADD COLUMN key_admins TEXT NOT NULL DEFAULT 'owner_and_admin';
