// SPDX-License-Identifier: Apache-2.0

package api

import "testing"

func TestParseFormatUSD(t *testing.T) {
	good := map[string]int64{"0": 0, "12": 12_000_000, "12.5": 12_500_000, "0.000001": 1, "1.25": 1_250_000}
	for in, want := range good {
		got, err := parseUSD(in)
		if err != nil || got != want {
			t.Errorf("parseUSD(%q) = %d, %v; want %d", in, got, err, want)
		}
		if back, _ := parseUSD(formatUSD(got)); back != got {
			t.Errorf("formatUSD(%d) = %q does not round-trip", got, formatUSD(got))
		}
	}
	for _, bad := range []string{"", "-1", "+1", "1.", ".5", "1.0000001", "1.+5", "1e3", "abc", "1,5", "99999999999999"} {
		if _, err := parseUSD(bad); err == nil {
			t.Errorf("parseUSD(%q) accepted", bad)
		}
	}
	if got := formatUSD(1_500_000); got != "1.5" {
		t.Errorf("formatUSD = %q", got)
	}
}
