-- Change notifications exist on PostgreSQL only (LISTEN/NOTIFY between
-- replicas); an embedded SQLite database has one process, whose caches are
-- invalidated in memory. This step keeps the two migration sequences
-- numbered alike.
SELECT 1;
