// SPDX-License-Identifier: Apache-2.0

package quota

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWindowBounds(t *testing.T) {
	tests := []struct {
		name    string
		w       window
		now     time.Time
		wantID  string
		wantEnd time.Time
	}{
		{"DayUTC", window{}, time.Date(2026, 1, 5, 23, 59, 59, 999, time.UTC), "d20260105", time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)},
		{"DayFromOtherZone", window{}, time.Date(2026, 1, 5, 20, 0, 0, 0, time.FixedZone("EST", -5*3600)), "d20260106", time.Date(2026, 1, 7, 0, 0, 0, 0, time.UTC)},
		{"DayAtMidnight", window{}, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "d20260301", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{"DayYearEnd", window{}, time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC), "d20261231", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"MonthFebLeap", window{monthly: true}, time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC), "m202802", time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"MonthDecember", window{monthly: true}, time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), "m202612", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, end := tc.w.bounds(tc.now, nil)
			if diff := cmp.Diff([]any{tc.wantID, tc.wantEnd}, []any{string(id), end}); diff != "" {
				t.Errorf("bounds (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormatUSD(t *testing.T) {
	tests := []struct {
		micros int64
		want   string
	}{
		{0, "$0.00"},
		{5_000_000, "$5.00"},
		{2_500_000, "$2.50"},
		{125, "$0.000125"},
		{1_234_567_890, "$1234.56789"},
		{-1_500_000, "-$1.50"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := formatUSD(tc.micros); got != tc.want {
				t.Errorf("formatUSD(%d) = %q, want %q", tc.micros, got, tc.want)
			}
		})
	}
}
