// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL error codes the store maps.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// isUnique reports whether err violates the named unique constraint (or
// primary key, "<table>_pkey").
func isUnique(err error, constraint string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == codeUniqueViolation && e.ConstraintName == constraint
}

// isForeignKey reports whether err violates a foreign key.
func isForeignKey(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == codeForeignKeyViolation
}
