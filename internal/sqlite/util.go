// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// constraint returns, for a constraint violation, the driver's description
// of it ("UNIQUE constraint failed: tenants.name", "FOREIGN KEY constraint
// failed"), and "" for any other error.
func constraint(err error) string {
	var e *sqlite.Error
	if !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_CONSTRAINT {
		return ""
	}
	msg := e.Error()
	if i := strings.Index(msg, "constraint failed: "); i >= 0 {
		msg = msg[i+len("constraint failed: "):]
	}
	return msg
}

// isUnique reports whether err violates a UNIQUE or PRIMARY KEY constraint on
// the given "table.column" (as SQLite names it in the message).
func isUnique(err error, column string) bool {
	c := constraint(err)
	return (strings.HasPrefix(c, "UNIQUE constraint failed") || strings.HasPrefix(c, "PRIMARY KEY constraint failed")) &&
		strings.Contains(c, column)
}

// isForeignKey reports whether err violates a foreign key.
func isForeignKey(err error) bool {
	return strings.HasPrefix(constraint(err), "FOREIGN KEY constraint failed")
}
