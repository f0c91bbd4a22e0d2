package sqlite

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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

// micros converts t for an INTEGER unix-microsecond column: NULL for the
// zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// microTime scans an INTEGER unix-microsecond column (NULL → zero time)
// into a UTC time.
type microTime struct{ p *time.Time }

// Scan implements sql.Scanner.
func (m microTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*m.p = time.Time{}
	case int64:
		*m.p = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("scan time: unexpected %T", v)
	}
	return nil
}

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
