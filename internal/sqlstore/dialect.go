// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dialect is the SQL dialect of one backend: how it writes placeholders,
// casts and bytewise ordering, and how it stores timestamps. Both accept
// the same upsert (INSERT ... ON CONFLICT ... DO UPDATE SET col =
// excluded.col, or DO NOTHING), so that needs no description. The shared
// statements are written once, with ? placeholders, and rendered by the
// Dialect's methods. A Dialect is a constant, so using one needs no state;
// the zero Dialect is SQLite.
type Dialect uint8

const (
	// SQLite writes ? placeholders; its BINARY collation already orders
	// text by bytes; it infers types from values; it stores timestamps as
	// INTEGER unix microseconds in UTC, NULL for none.
	SQLite Dialect = iota
	// Postgres writes $1, $2, ... placeholders; it needs COLLATE "C" to
	// order text by bytes whatever the database's collation, and ::type
	// casts where a type cannot be inferred; it stores timestamps as
	// timestamptz.
	Postgres
)

// render returns q with each ? placeholder written in d's style: as is for
// SQLite, $1, $2, ... in order of appearance for Postgres. A ? inside a
// quoted string or identifier ('...', "...") is text, not a placeholder.
func (d Dialect) render(q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte // the quote that opened the literal q is in; 0 outside
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote ('') closes and reopens: same result
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// cast returns expr cast to the PostgreSQL type typ where d needs the cast
// (Postgres: a bare NULL, or a sum, whose type it would otherwise pick
// itself), expr as is elsewhere.
func (d Dialect) cast(expr, typ string) string {
	if d == Postgres {
		return expr + "::" + typ
	}
	return expr
}

// bytewise returns the text expression expr so that ORDER BY sorts it by
// bytes, as both backends must agree on order.
func (d Dialect) bytewise(expr string) string {
	if d == Postgres {
		return expr + ` COLLATE "C"`
	}
	return expr
}

// timeArg returns t as the argument for a timestamp column: NULL for the zero
// time; unix microseconds for SQLite (t is whole microseconds, as
// keygate.Now makes it); t itself for Postgres.
func (d Dialect) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if d == Postgres {
		return t
	}
	return t.UnixMicro()
}

// bound returns t as the argument for a comparison with a timestamp column,
// rounded up to a whole microsecond: stored times are whole microseconds,
// so "col >= bound(t)" and "col < bound(t)" mean what comparing with t
// itself means (a driver would truncate instead).
func (d Dialect) bound(t time.Time) any {
	u := t.Truncate(time.Microsecond)
	if u.Before(t) {
		u = u.Add(time.Microsecond)
	}
	if d == Postgres {
		return u.UTC()
	}
	return u.UnixMicro()
}

// microsPerDay is one day in SQLite's timestamp unit.
const microsPerDay = int64(24 * time.Hour / time.Microsecond)

// day returns the SQL expression of the timestamp column col floored to
// its UTC midnight.
func (d Dialect) day(col string) string {
	if d == Postgres {
		return "date_trunc('day', " + col + ", 'UTC')"
	}
	// Floor, also before 1970, where % is negative.
	return fmt.Sprintf("(%[1]s - ((%[1]s %% %[2]d) + %[2]d) %% %[2]d)", col, microsPerDay)
}

// timeDest scans a timestamp column of either dialect into a UTC time: an
// INTEGER of unix microseconds (SQLite) or a time (pgx reading a
// timestamptz through database/sql's Scanner), NULL as the zero time.
type timeDest struct{ p *time.Time }

// Scan implements database/sql's Scanner, which pgx honours too.
func (t timeDest) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*t.p = time.Time{}
	case int64:
		*t.p = time.UnixMicro(v).UTC()
	case time.Time:
		*t.p = v.UTC()
	default:
		// pgx reports an infinite timestamptz as a string.
		return fmt.Errorf("scan time: unexpected %T", v)
	}
	return nil
}

// Lock is a row lock a SELECT takes in a write transaction, on a dialect
// with row locks.
type Lock uint8

const (
	// ForUpdate: the transaction will change or delete the row, or must
	// be the only one working on what hangs off it (a key's versions, the
	// audit chain).
	ForUpdate Lock = iota + 1
	// ForNoKeyUpdate: the transaction will replace rows that refer to this
	// one (a tenant's policy, budget or limits). Two such transactions
	// serialize, a deleter of the row waits, but foreign key checks (FOR
	// KEY SHARE) of inserts that refer to the row need not wait.
	ForNoKeyUpdate
	// ForShare: the transaction will add a row that refers to this one
	// without a foreign key to do the locking (a tenant's key); others
	// adding may go on, a deleter of the row waits.
	ForShare
)

// lock returns the clause, with a leading space, that takes l on the rows
// a SELECT reads. It is empty on SQLite: a write transaction there holds
// the database's only write lock from its first statement (BEGIN
// IMMEDIATE), so no other writer can change what it read until it commits,
// and the algorithms written for PostgreSQL's row locks hold as they are.
func (d Dialect) lock(l Lock) string {
	if d != Postgres {
		return ""
	}
	switch l {
	case ForUpdate:
		return " FOR UPDATE"
	case ForNoKeyUpdate:
		return " FOR NO KEY UPDATE"
	case ForShare:
		return " FOR SHARE"
	}
	panic(fmt.Sprintf("sqlstore: unknown lock %d", l))
}

// rowLocks reports whether d locks rows: whether a statement that only
// takes locks is worth running.
func (d Dialect) rowLocks() bool { return d == Postgres }

// unique is a UNIQUE constraint (or primary key) whose violation the store
// reports as conflict.
type unique uint8

const (
	tenantsPkey unique = iota
	tenantsName
	adminTokensPkey
	adminTokensHash
	gatewayTokensPkey
	gatewayTokensHash
	auditEventsID
)

// constraint returns the name under which the engine reports a violation
// of u (Tx.Unique): PostgreSQL's names of the migrations' constraints
// ("tenants_pkey", "tenants_name_key"), SQLite's "table.column" of its
// messages ("UNIQUE constraint failed: tenants.name").
func (d Dialect) constraint(u unique) string {
	var table, column string
	pkey := false
	switch u {
	case tenantsPkey:
		table, column, pkey = "tenants", "id", true
	case tenantsName:
		table, column = "tenants", "name"
	case adminTokensPkey:
		table, column, pkey = "admin_tokens", "id", true
	case adminTokensHash:
		table, column = "admin_tokens", "hash"
	case gatewayTokensPkey:
		table, column, pkey = "gateway_tokens", "id", true
	case gatewayTokensHash:
		table, column = "gateway_tokens", "hash"
	case auditEventsID:
		table, column = "audit_events", "id"
	default:
		panic(fmt.Sprintf("sqlstore: unknown constraint %d", u))
	}
	switch {
	case d != Postgres:
		return table + "." + column
	case pkey:
		return table + "_pkey"
	}
	return table + "_" + column + "_key"
}
