package postgres

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// idSource mints random ids. r, if set, must be safe for concurrent use.
type idSource struct{ r io.Reader }

// newID returns prefix followed by 24 hex digits (96 random bits).
func (s idSource) newID(prefix string) (string, error) {
	var b [12]byte
	r := s.r
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return prefix + hex.EncodeToString(b[:]), nil
}

// tsDest scans a timestamptz column (NULL → zero time) into a UTC time.
type tsDest struct{ p *time.Time }

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (d tsDest) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		*d.p = time.Time{}
		return nil
	}
	if v.InfinityModifier != pgtype.Finite {
		return errors.New("scan time: infinite timestamp")
	}
	*d.p = v.Time.UTC()
	return nil
}

// ceilMicro returns t rounded up to a whole microsecond, so that comparing
// stored (whole-microsecond) times against it means the same as comparing
// against t itself; pgx would truncate instead.
func ceilMicro(t time.Time) time.Time {
	u := t.Truncate(time.Microsecond)
	if u.Before(t) {
		u = u.Add(time.Microsecond)
	}
	return u.UTC()
}

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

// quote formats a caller-supplied name for a message: quoted, and cut short
// so a huge argument cannot make a huge message.
func quote(s string) string {
	if len(s) > 70 {
		s = s[:70] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// bare formats an identifier for a message: as is when it is a plain
// identifier (openai, tn_x), quoted like quote otherwise.
func bare(s string) string {
	if len(s) == 0 || len(s) > 64 {
		return quote(s)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return quote(s)
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
