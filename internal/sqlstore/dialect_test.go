// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name             string
		q                string
		sqlite, postgres string
	}{
		{"NoPlaceholder", `SELECT count(*) FROM admin_tokens`,
			`SELECT count(*) FROM admin_tokens`, `SELECT count(*) FROM admin_tokens`},
		{"InOrder", `UPDATE t SET a = ?, b = ? WHERE id = ?`,
			`UPDATE t SET a = ?, b = ? WHERE id = ?`, `UPDATE t SET a = $1, b = $2 WHERE id = $3`},
		{"Adjacent", `VALUES (?,?)`, `VALUES (?,?)`, `VALUES ($1,$2)`},
		{"AtEnd", `LIMIT ?`, `LIMIT ?`, `LIMIT $1`},
		{"TenOrMore", `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			`($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`},
		{"InString", `SELECT '?' AS q, x FROM t WHERE y = ?`,
			`SELECT '?' AS q, x FROM t WHERE y = ?`, `SELECT '?' AS q, x FROM t WHERE y = $1`},
		{"InDoubledQuoteString", `SELECT 'it''s ?', ? FROM t`,
			`SELECT 'it''s ?', ? FROM t`, `SELECT 'it''s ?', $1 FROM t`},
		{"EmptyString", `SELECT '', ? FROM t`, `SELECT '', ? FROM t`, `SELECT '', $1 FROM t`},
		{"InIdentifier", `SELECT "a?b" FROM t WHERE c = ? ORDER BY c COLLATE "C"`,
			`SELECT "a?b" FROM t WHERE c = ? ORDER BY c COLLATE "C"`, `SELECT "a?b" FROM t WHERE c = $1 ORDER BY c COLLATE "C"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SQLite.render(tc.q); got != tc.sqlite {
				t.Errorf("SQLite.render(%q) = %q, want %q", tc.q, got, tc.sqlite)
			}
			if got := Postgres.render(tc.q); got != tc.postgres {
				t.Errorf("Postgres.render(%q) = %q, want %q", tc.q, got, tc.postgres)
			}
		})
	}
}

func TestBound(t *testing.T) {
	at := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	before1970 := time.Date(1969, 12, 31, 23, 59, 59, 999_999_500, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		want time.Time // the bound: t rounded up to a whole microsecond, UTC
	}{
		{"WholeMicrosecond", at.Add(7 * time.Microsecond), at.Add(7 * time.Microsecond)},
		{"OneNanosecondPast", at.Add(time.Nanosecond), at.Add(time.Microsecond)},
		{"JustBelow", at.Add(999 * time.Nanosecond), at.Add(time.Microsecond)},
		{"Before1970", before1970, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"OtherZone", at.In(time.FixedZone("X", 3600)).Add(time.Nanosecond), at.Add(time.Microsecond)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SQLite.bound(tc.t); got != tc.want.UnixMicro() {
				t.Errorf("SQLite.bound(%v) = %v, want %d", tc.t, got, tc.want.UnixMicro())
			}
			got, ok := Postgres.bound(tc.t).(time.Time)
			if !ok || !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Errorf("Postgres.bound(%v) = %v, want %v in UTC", tc.t, Postgres.bound(tc.t), tc.want)
			}
		})
	}
}

func TestTimeArg(t *testing.T) {
	at := time.Date(2025, 3, 10, 12, 0, 0, 123_000, time.UTC)
	if got := SQLite.timeArg(at); got != at.UnixMicro() {
		t.Errorf("SQLite.timeArg = %v, want %d", got, at.UnixMicro())
	}
	if got := Postgres.timeArg(at); got != at {
		t.Errorf("Postgres.timeArg = %v, want %v", got, at)
	}
	if got := SQLite.timeArg(time.Time{}); got != nil {
		t.Errorf("SQLite.timeArg(zero) = %v, want nil (NULL)", got)
	}
	if got := Postgres.timeArg(time.Time{}); got != nil {
		t.Errorf("Postgres.timeArg(zero) = %v, want nil (NULL)", got)
	}
}

func TestTimeDest(t *testing.T) {
	at := time.Date(2025, 3, 10, 12, 0, 0, 123_000, time.UTC)
	tests := []struct {
		name    string
		v       any
		want    time.Time
		wantErr bool
	}{
		{"Null", nil, time.Time{}, false},
		{"UnixMicros", at.UnixMicro(), at, false},
		{"Timestamptz", at.In(time.FixedZone("X", -7200)), at, false},
		{"Infinity", "infinity", time.Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // overwritten, also for NULL
			err := timeDest{&got}.Scan(tc.v)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Scan(%v) error = %v, want error %v", tc.v, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Scan(%v) (-want +got):\n%s", tc.v, diff)
			}
			if !got.IsZero() && got.Location() != time.UTC {
				t.Errorf("Scan(%v) = %v, want UTC", tc.v, got)
			}
		})
	}
}
