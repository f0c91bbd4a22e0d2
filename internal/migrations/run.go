// SPDX-License-Identifier: Apache-2.0

package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/keygate/keygate"
)

// Options are the optional dependencies of Run.
type Options struct {
	// Now stamps schema_migrations.applied_at; default time.Now.
	Now keygate.Clock
	// Logger receives one line per applied migration; default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// dialectSQL is what differs between dialects in the runner itself.
type dialectSQL struct {
	// createTable creates schema_migrations if it is missing.
	createTable string
	// lock, if not empty, runs first in every runner transaction and blocks
	// until no other runner holds it, so that several replicas starting at
	// once on one PostgreSQL apply each migration exactly once. SQLite needs
	// none: its write transactions are BEGIN IMMEDIATE and so already
	// exclusive.
	lock string
	// has and insert query and record one applied migration.
	has, insert string
	// stamp converts applied_at to the column's type.
	stamp func(time.Time) any
}

func sqlFor(d Dialect) (dialectSQL, error) {
	switch d {
	case SQLite:
		return dialectSQL{
			createTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
				version INTEGER NOT NULL PRIMARY KEY,
				name TEXT NOT NULL,
				applied_at INTEGER NOT NULL
			) STRICT`,
			has:    `SELECT count(*) FROM schema_migrations WHERE version = ?`,
			insert: `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			stamp:  func(t time.Time) any { return t.UTC().UnixMicro() },
		}, nil
	case Postgres:
		return dialectSQL{
			createTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
				version INTEGER NOT NULL PRIMARY KEY,
				name TEXT NOT NULL,
				applied_at TIMESTAMPTZ NOT NULL
			)`,
			// One lock per schema, so tests that each use their own schema
			// do not wait for one another.
			lock:   `SELECT pg_advisory_xact_lock(hashtext('keygate.migrations:' || coalesce(current_schema(), '')))`,
			has:    `SELECT count(*) FROM schema_migrations WHERE version = $1`,
			insert: `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			stamp:  func(t time.Time) any { return t.UTC().Truncate(time.Microsecond) },
		}, nil
	}
	return dialectSQL{}, fmt.Errorf("unknown migration dialect %q", d)
}

// Run applies the migrations of dialect d that db has not applied yet, each
// in its own transaction recorded in the schema_migrations table, and
// returns those it applied. Running it again is a no-op. Concurrent runs on
// one PostgreSQL schema serialize on an advisory lock, so none is applied
// twice.
//
// For SQLite, db must start write transactions with BEGIN IMMEDIATE (DSN
// parameter _txlock=immediate) so that two processes cannot both read
// "not applied" before either writes.
//
// Run fails, applying nothing, if the database records a migration newer
// than this binary knows: an older binary must not run against a newer
// schema.
func Run(ctx context.Context, db *sql.DB, d Dialect, opt Options) ([]Migration, error) {
	opt = opt.withDefaults()
	q, err := sqlFor(d)
	if err != nil {
		return nil, err
	}
	ms, err := List(d)
	if err != nil {
		return nil, err
	}
	err = inTx(ctx, db, q, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, q.createTable); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var newest sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&newest); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if newest.Valid && int(newest.Int64) > len(ms) {
			return fmt.Errorf("database schema version %d is newer than this binary's %d: upgrade keygate", newest.Int64, len(ms))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var applied []Migration
	for _, m := range ms {
		did := false
		err := inTx(ctx, db, q, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, q.has, m.Version).Scan(&n); err != nil {
				return fmt.Errorf("check migration %04d: %w", m.Version, err)
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, q.insert, m.Version, m.Name, q.stamp(opt.Now())); err != nil {
				return fmt.Errorf("record migration %04d: %w", m.Version, err)
			}
			did = true
			return nil
		})
		if err != nil {
			return applied, err
		}
		if did {
			opt.Logger.LogAttrs(ctx, slog.LevelInfo, "applied migration",
				slog.String("dialect", string(d)), slog.Int("version", m.Version), slog.String("name", m.Name))
			applied = append(applied, m)
		}
	}
	return applied, nil
}

// inTx runs fn in one transaction, after taking the dialect's lock.
func inTx(ctx context.Context, db *sql.DB, q dialectSQL, fn func(*sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration transaction: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	if q.lock != "" {
		if _, err := tx.ExecContext(ctx, q.lock); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
