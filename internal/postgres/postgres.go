// SPDX-License-Identifier: Apache-2.0

// Package postgres implements keygate.Store on PostgreSQL with pgx, for
// deployments that run several keygate replicas on one database.
//
// Concurrency: every method is one READ COMMITTED transaction that takes the
// row locks it needs (sqlstore.Store says which, and in what order), so
// concurrent writers, on this replica or another, serialize where they
// must and never deadlock.
//
// Options.Schema puts every table in its own schema (through search_path),
// created if missing, so tests and several keygate installations can share
// one database.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/migrations"
	"github.com/keygate/keygate/internal/sqlstore"
)

// Options are the optional settings of Open.
type Options struct {
	// Now is the store's clock; every timestamp it writes comes from it,
	// read once per transaction. Default time.Now.
	Now keygate.Clock
	// Logger receives migration messages; default: discard.
	Logger *slog.Logger
	// Schema, if set, is the schema that holds keygate's tables: Open
	// creates it if missing and sets search_path to it on every connection.
	// Empty means the server's default search_path (usually public).
	Schema string
	// Rand is the source of random ids ("pk_...", "ev_..."); default
	// crypto/rand.
	Rand io.Reader
	// MaxConns caps the connection pool; default pgxpool's (or the URL's
	// pool_max_conns).
	MaxConns int32
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

// DB is a keygate.Store on PostgreSQL. It is safe for concurrent use.
type DB struct {
	// Store is every method of keygate.Store, as sqlite has them too;
	// DB adds what is PostgreSQL's own: the usage writer, the change feed
	// (Listen), Ping and Close.
	*sqlstore.Store
	pool *pgxpool.Pool
	now  keygate.Clock
	log  *slog.Logger
}

var _ keygate.Store = (*DB)(nil)

// Open connects to the PostgreSQL server at url (a postgres:// URL or a
// key=value DSN), creates Options.Schema if it is set and missing, and
// applies pending migrations (several replicas opening at once apply each
// migration exactly once). It fails if the URL is malformed, the server is
// unreachable, or the schema is newer than this binary.
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	opt = opt.withDefaults()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("open postgres: malformed connection URL")
	}
	if opt.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{opt.Schema}.Sanitize()
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db := &DB{pool: pool, now: opt.Now, log: opt.Logger}
	db.Store = sqlstore.New(sqlstore.Postgres, runner{db}, sqlstore.IDs{R: opt.Rand})
	if opt.Schema != "" {
		if err := db.createSchema(ctx, opt.Schema); err != nil {
			pool.Close()
			return nil, err
		}
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	_, err = migrations.Run(ctx, sqlDB, migrations.Postgres, migrations.Options{Now: opt.Now, Logger: opt.Logger})
	sqlDB.Close() // does not close the pool
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate postgres: %w", err)
	}
	return db, nil
}

// createSchema creates schema unless it exists. Two replicas starting at
// once may race on CREATE SCHEMA IF NOT EXISTS; the loser's duplicate error
// means the schema is there.
func (db *DB) createSchema(ctx context.Context, schema string) error {
	_, err := db.pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P06" || pgErr.Code == "23505") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

// Ping reports whether the server answers and keygate's tables are there.
func (db *DB) Ping(ctx context.Context) error {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM audit_head`).Scan(&n); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}
