// SPDX-License-Identifier: Apache-2.0

// Package sqlstore is keygate.Store written once for the two SQL engines
// (internal/sqlite and internal/postgres): Store holds every method, over
// the transactions a backend runs (Runner, Tx) and the SQL of its Dialect
// (placeholders, casts, bytewise ordering, timestamps, row lock clauses and
// constraint names). Rows are scanned through Row and Rows, which
// *sql.Row(s) and pgx.Row(s) both satisfy.
//
// It opens no connection and begins no transaction: a backend brings its
// transactions, the reading of its driver's errors (Tx.NoRows, Tx.Unique,
// Tx.ForeignKey), its way of writing a usage batch (Store.WriteUsage), and
// what only its engine has. Committed writes are announced through
// Tx.Announce and published by the backend's runner after the commit. It
// imports only the root package and the standard library.
package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/keygate/keygate"
)

// Stmt is one statement rendered for a dialect, with its arguments.
type Stmt struct {
	SQL  string
	Args []any
}

// With returns s with clause appended to its SQL: a backend's own suffix,
// such as " FOR UPDATE". The clause must have no placeholders.
func (s Stmt) With(clause string) Stmt {
	return Stmt{SQL: s.SQL + clause, Args: s.Args}
}

// Row is one result row: *sql.Row, *sql.Rows, pgx.Row or pgx.Rows.
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result set: *sql.Rows or pgx.Rows. Closing it is the caller's
// business (the two disagree on Close's signature).
type Rows interface {
	Row
	Next() bool
	Err() error
}

// Tx is one transaction of a backend (or, for a read on PostgreSQL, one
// statement): the shared reads and steps run their statements through it,
// so that they commit or roll back with the rest.
type Tx interface {
	// ExecStmt runs s and returns how many rows it changed.
	ExecStmt(ctx context.Context, s Stmt) (int64, error)
	// QueryRowStmt runs s, which selects at most one row; the driver's
	// "no rows" error comes from the row's Scan.
	QueryRowStmt(ctx context.Context, s Stmt) Row
	// QueryStmt runs s, calls read with its rows, then closes them, and
	// returns the first error of the query, read or the rows.
	QueryStmt(ctx context.Context, s Stmt, read func(Rows) error) error
	// NoRows reports whether err, from the Scan of a QueryRowStmt row, is
	// the driver's "no rows".
	NoRows(err error) bool
	// Unique reports whether err, from a statement of this transaction,
	// violates the unique constraint or primary key the engine calls name
	// (see Dialect.constraint).
	Unique(err error, name string) bool
	// ForeignKey reports whether err, from a statement of this
	// transaction, violates a foreign key.
	ForeignKey(err error) bool
	// Now is the transaction's time: the store's clock, read once, whole
	// microseconds in UTC (keygate.Now).
	Now() time.Time
	// Announce records c, a change this transaction makes. The backend's
	// write runner publishes the recorded changes to the store's
	// subscribers, in order, after the transaction commits and before the
	// write returns; a transaction that rolls back publishes nothing. A
	// read ignores them.
	Announce(c keygate.Change)
}

// Runner is a backend's transactions, as Store uses them. Both return a
// *keygate.Error from fn as is and wrap any other error with what.
type Runner interface {
	// Read runs fn, which issues exactly one statement, on a consistent
	// snapshot.
	Read(ctx context.Context, what string, fn func(Tx) error) error
	// Write runs fn in one read-write transaction and, once it has
	// committed, publishes the changes fn announced (Tx.Announce) to the
	// store's subscribers before it returns.
	Write(ctx context.Context, what string, fn func(Tx) error) error
}

// Collect runs s in tx and scans each of its rows with scan, in order. It
// returns nil (not an empty slice) when there are none.
func Collect[T any](ctx context.Context, tx Tx, s Stmt, scan func(Row) (T, error)) ([]T, error) {
	var out []T
	err := tx.QueryStmt(ctx, s, func(rows Rows) error {
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IDs mints random ids. R, if set, is the random source and must be safe
// for concurrent use; nil means crypto/rand.
type IDs struct{ R io.Reader }

// New returns prefix followed by 24 hex digits (96 random bits), or the
// error of reading the random source.
func (s IDs) New(prefix string) (string, error) {
	var b [12]byte
	r := s.R
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return prefix + hex.EncodeToString(b[:]), nil
}

// Quote formats a caller-supplied name for a message: quoted, and cut
// short so that a huge argument cannot make a huge message.
func Quote(s string) string {
	if len(s) > 70 {
		s = s[:70] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// Bare formats an identifier for a message: as is when it is a plain
// identifier (openai, tn_x), quoted like Quote otherwise.
func Bare(s string) string {
	if len(s) == 0 || len(s) > 64 {
		return Quote(s)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return Quote(s)
		}
	}
	return s
}

// clamp applies a default to n <= 0 and caps it at hi.
func clamp(n, def, hi int) int {
	if n <= 0 {
		return def
	}
	return min(n, hi)
}
