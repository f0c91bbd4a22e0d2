// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// tx is one store transaction (or, for reads, one statement) and the time
// it runs at.
type tx struct {
	querier
	now time.Time
	// changes are what the transaction announced, published once it
	// commits.
	changes []keygate.Change
}

// querier is what pgx.Tx and *pgxpool.Pool have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// write runs fn in one read-write transaction. A *keygate.Error from fn is
// returned as is; any other error is wrapped with what.
func (db *DB) write(ctx context.Context, what string, fn func(*tx) error) error {
	return db.inTx(ctx, pgx.TxOptions{}, what, fn)
}

// read runs fn, which must issue exactly one statement, on the pool without
// an explicit transaction: PostgreSQL runs a single statement atomically on
// one snapshot, and BEGIN and COMMIT would triple the round trips of the
// reads the hot path makes.
func (db *DB) read(ctx context.Context, what string, fn func(*tx) error) error {
	return wrap(what, fn(&tx{querier: db.pool, now: keygate.Now(db.now)}))
}

func (db *DB) inTx(ctx context.Context, opts pgx.TxOptions, what string, fn func(*tx) error) error {
	now := keygate.Now(db.now)
	var changes []keygate.Change
	err := pgx.BeginTxFunc(ctx, db.pool, opts, func(t pgx.Tx) error {
		tx := &tx{querier: t, now: now}
		err := fn(tx)
		changes = tx.changes
		return err
	})
	if err != nil {
		return wrap(what, err)
	}
	db.Publish(changes...)
	return nil
}

// wrap returns a *keygate.Error in err's chain as is, and wraps any other
// error with what failed.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	var kerr *keygate.Error
	if errors.As(err, &kerr) {
		return kerr
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ExecStmt runs s and returns how many rows it changed (sqlstore.Tx).
func (tx *tx) ExecStmt(ctx context.Context, s sqlstore.Stmt) (int64, error) {
	tag, err := tx.Exec(ctx, s.SQL, s.Args...)
	return tag.RowsAffected(), err
}

// QueryRowStmt runs s, which selects at most one row (sqlstore.Tx).
func (tx *tx) QueryRowStmt(ctx context.Context, s sqlstore.Stmt) sqlstore.Row {
	return tx.QueryRow(ctx, s.SQL, s.Args...)
}

// QueryStmt runs s and calls read with its rows (sqlstore.Tx).
func (tx *tx) QueryStmt(ctx context.Context, s sqlstore.Stmt, read func(sqlstore.Rows) error) error {
	rows, err := tx.Query(ctx, s.SQL, s.Args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := read(rows); err != nil {
		return err
	}
	return rows.Err()
}

// NoRows reports whether err is pgx's "no rows" (sqlstore.Tx).
func (*tx) NoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// Unique reports whether err violates the unique constraint (or primary
// key) the migrations named name (sqlstore.Tx).
func (*tx) Unique(err error, name string) bool { return isUnique(err, name) }

// ForeignKey reports whether err violates a foreign key (sqlstore.Tx).
func (*tx) ForeignKey(err error) bool { return isForeignKey(err) }

// Now is the transaction's time (sqlstore.Tx).
func (tx *tx) Now() time.Time { return tx.now }

// Announce records c for publication after commit (sqlstore.Tx).
func (tx *tx) Announce(c keygate.Change) { tx.changes = append(tx.changes, c) }

// runner gives sqlstore.Store this backend's transactions: its reads are
// single statements on the pool (see read).
type runner struct{ db *DB }

// Read runs fn as db.read does (sqlstore.Runner).
func (r runner) Read(ctx context.Context, what string, fn func(sqlstore.Tx) error) error {
	return r.db.read(ctx, what, func(tx *tx) error { return fn(tx) })
}

// Write runs fn as db.write does (sqlstore.Runner).
func (r runner) Write(ctx context.Context, what string, fn func(sqlstore.Tx) error) error {
	return r.db.write(ctx, what, func(tx *tx) error { return fn(tx) })
}
