// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// tx is one store transaction and the time it runs at.
type tx struct {
	*sql.Tx
	now time.Time
	// stmts are the prepared statements the transaction's queries use;
	// nil in write transactions.
	stmts *stmtCache
	// changes are what the transaction announced, published once it
	// commits.
	changes []keygate.Change
}

// write runs fn in one write transaction. A *keygate.Error from fn is
// returned as is; any other error is wrapped with what.
func (db *DB) write(ctx context.Context, what string, fn func(*tx) error) error {
	return db.inTx(ctx, db.writer, nil, what, fn)
}

// read runs fn in one read transaction (a consistent snapshot), its queries
// on the reader pool's prepared statements; then it prepares the queries
// that had none yet.
func (db *DB) read(ctx context.Context, what string, fn func(*tx) error) error {
	err := db.inTx(ctx, db.reader, db.readStmts, what, fn)
	db.readStmts.prepare(ctx)
	return err
}

func (db *DB) inTx(ctx context.Context, pool *sql.DB, stmts *stmtCache, what string, fn func(*tx) error) (err error) {
	sqlTx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer func() {
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	t := &tx{Tx: sqlTx, now: keygate.Now(db.now), stmts: stmts}
	if err := fn(t); err != nil {
		var kerr *keygate.Error
		if errors.As(err, &kerr) {
			return kerr
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	db.Publish(t.changes...)
	return nil
}

// ExecStmt runs s and returns how many rows it changed (sqlstore.Tx).
func (tx *tx) ExecStmt(ctx context.Context, s sqlstore.Stmt) (int64, error) {
	res, err := tx.ExecContext(ctx, s.SQL, s.Args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// prepared returns the transaction's handle on the prepared statement of
// q, or nil if there is none.
func (tx *tx) prepared(ctx context.Context, q string) *sql.Stmt {
	if tx.stmts == nil {
		return nil
	}
	if s := tx.stmts.get(q); s != nil {
		return tx.StmtContext(ctx, s)
	}
	return nil
}

// QueryRowStmt runs s, which selects at most one row (sqlstore.Tx).
func (tx *tx) QueryRowStmt(ctx context.Context, s sqlstore.Stmt) sqlstore.Row {
	if st := tx.prepared(ctx, s.SQL); st != nil {
		return st.QueryRowContext(ctx, s.Args...)
	}
	return tx.QueryRowContext(ctx, s.SQL, s.Args...)
}

// QueryStmt runs s and calls read with its rows (sqlstore.Tx).
func (tx *tx) QueryStmt(ctx context.Context, s sqlstore.Stmt, read func(sqlstore.Rows) error) error {
	var rows *sql.Rows
	var err error
	if st := tx.prepared(ctx, s.SQL); st != nil {
		rows, err = st.QueryContext(ctx, s.Args...)
	} else {
		rows, err = tx.QueryContext(ctx, s.SQL, s.Args...)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := read(rows); err != nil {
		return err
	}
	return rows.Err()
}

// NoRows reports whether err is database/sql's "no rows" (sqlstore.Tx).
func (*tx) NoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// Unique reports whether err violates the UNIQUE constraint or primary key
// on name, "table.column" as SQLite's message names it (sqlstore.Tx).
func (*tx) Unique(err error, name string) bool { return isUnique(err, name) }

// ForeignKey reports whether err violates a foreign key (sqlstore.Tx).
func (*tx) ForeignKey(err error) bool { return isForeignKey(err) }

// Now is the transaction's time (sqlstore.Tx).
func (tx *tx) Now() time.Time { return tx.now }

// Announce records c for publication after commit (sqlstore.Tx).
func (tx *tx) Announce(c keygate.Change) { tx.changes = append(tx.changes, c) }

// runner gives sqlstore.Store this backend's transactions.
type runner struct{ db *DB }

// Read runs fn as db.read does (sqlstore.Runner).
func (r runner) Read(ctx context.Context, what string, fn func(sqlstore.Tx) error) error {
	return r.db.read(ctx, what, func(tx *tx) error { return fn(tx) })
}

// Write runs fn as db.write does (sqlstore.Runner).
func (r runner) Write(ctx context.Context, what string, fn func(sqlstore.Tx) error) error {
	return r.db.write(ctx, what, func(tx *tx) error { return fn(tx) })
}
