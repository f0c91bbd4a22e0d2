// SPDX-License-Identifier: Apache-2.0

// Package sqlite implements keygate.Store on an embedded SQLite database
// (modernc.org/sqlite: pure Go, no cgo). It is the default backend: one file,
// no server.
//
// Concurrency: writes go through a pool of exactly one connection whose
// transactions begin IMMEDIATE, so writers in this process queue instead of
// failing with SQLITE_BUSY, and writers in other processes wait up to the busy
// timeout. Reads use a separate pool of read-only connections and, thanks to
// WAL mode, never wait for the writer.
//
// Timestamps are stored as INTEGER unix microseconds in UTC, so a time read
// back equals the time written (keygate.Now truncates to microseconds).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/migrations"
	"github.com/keygate/keygate/internal/sqlstore"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Memory is the path that opens a private in-memory database, for tests and
// throwaway runs. It lives as long as the DB and is never shared.
const Memory = ":memory:"

// busyTimeout is how long a write waits for another process's write lock
// before failing: long enough to ride out any sane transaction.
const busyTimeout = 10 * time.Second

// Options are the optional dependencies of Open.
type Options struct {
	// Now is the store's clock; every timestamp it writes comes from it,
	// read once per transaction. Default time.Now.
	Now keygate.Clock
	// Logger receives migration and maintenance messages; default: discard.
	Logger *slog.Logger
	// Rand is the source of random ids ("pk_...", "ev_..."); default
	// crypto/rand.
	Rand io.Reader
	// ReadConns caps the read pool; default 4.
	ReadConns int
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
	return o
}

// DB is a keygate.Store on SQLite. It is safe for concurrent use.
type DB struct {
	// Store is every method of keygate.Store, as postgres has them too;
	// DB adds what is SQLite's own: the usage writer, the checkpoint after
	// DestroySuperseded, Ping and Close.
	*sqlstore.Store
	writer *sql.DB // one connection, BEGIN IMMEDIATE
	reader *sql.DB // read-only connections; == writer for Memory
	now    keygate.Clock
	log    *slog.Logger
	// inserts are the prepared INSERTs of the usage ledger, on writer.
	inserts usageInserts
	// readStmts are the prepared statements of read transactions, on
	// reader.
	readStmts *stmtCache
}

var _ keygate.Store = (*DB)(nil)

// Open opens (creating it 0600 if missing, with its directory 0700) the
// SQLite database at path, or a private in-memory database for Memory, and
// applies pending migrations. It fails if the file cannot be created or
// opened, is not an SQLite database, or has a schema newer than this binary.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	opt = opt.withDefaults()
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		// The driver reads parameters after '?'; refuse rather than
		// silently open another file.
		return nil, fmt.Errorf("open sqlite %q: path must not contain '?' or '#'", path)
	}
	db := &DB{now: opt.Now, log: opt.Logger}
	db.Store = sqlstore.New(sqlstore.SQLite, runner{db}, sqlstore.IDs{R: opt.Rand})
	if path == Memory {
		w, err := sql.Open("sqlite", dsn(path, true))
		if err != nil {
			return nil, fmt.Errorf("open sqlite memory database: %w", err)
		}
		// One connection for everything: a second one would be another,
		// empty, database.
		w.SetMaxOpenConns(1)
		w.SetConnMaxIdleTime(0)
		w.SetConnMaxLifetime(0)
		db.writer, db.reader = w, w
	} else {
		if err := createFile(path); err != nil {
			return nil, err
		}
		w, err := sql.Open("sqlite", dsn(path, true))
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		w.SetMaxOpenConns(1)
		r, err := sql.Open("sqlite", dsn(path, false))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		r.SetMaxOpenConns(opt.ReadConns)
		db.writer, db.reader = w, r
	}
	db.readStmts = newStmtCache(db.reader)
	if _, err := migrations.Run(ctx, db.writer, migrations.SQLite, migrations.Options{Now: opt.Now, Logger: opt.Logger}); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate sqlite %s: %w", path, err)
	}
	return db, nil
}

// createFile makes sure path exists with mode 0600 before SQLite opens it:
// SQLite would create it with the umask's mode, and it creates the -wal and
// -shm files with the database file's mode, so this covers all three.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create sqlite directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create sqlite file: %w", err)
	}
	return f.Close()
}

// dsn returns the modernc DSN for path. Every connection gets WAL, the busy
// timeout, foreign keys and secure_delete (deleted key material is
// overwritten in the file, not left in free pages); writers begin
// IMMEDIATE, readers are query-only.
func dsn(path string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "secure_delete(1)")
	if path != Memory {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	if write {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return path + "?" + q.Encode()
}

// Ping reports whether the database file is reachable.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	var n int
	if err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM audit_head`).Scan(&n); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close closes both pools. The DB must not be used afterwards.
func (db *DB) Close() error {
	errs := []error{db.inserts.close()}
	if db.readStmts != nil {
		errs = append(errs, db.readStmts.close())
	}
	if db.reader != db.writer && db.reader != nil {
		errs = append(errs, db.reader.Close())
	}
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite: %w", err)
	}
	return nil
}
