package api

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/keygate/keygate"
)

// usd is an amount of US dollars in JSON, held as micro-USD. It decodes a
// JSON number or string with up to six decimals exactly (no floats), and
// encodes as a decimal string ("12.5", "0.000125").
type usd int64

func (u *usd) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := parseUSD(s)
	if err != nil {
		return err
	}
	*u = usd(v)
	return nil
}

func (u usd) MarshalJSON() ([]byte, error) { return json.Marshal(formatUSD(int64(u))) }

// parseUSD reads a non-negative decimal with at most six fractional digits
// into micro-USD.
func parseUSD(s string) (int64, error) {
	bad := keygate.Errorf(keygate.CodeInvalidRequest, "Amounts in USD are non-negative decimals with at most 6 decimal places, such as 12.50.")
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(frac) > 6 || (dot && frac == "") || !digits(whole) || !digits(frac) {
		return 0, bad
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1e12 {
		return 0, bad
	}
	var f int64
	if frac != "" {
		f, err = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
		if err != nil || f < 0 {
			return 0, bad
		}
	}
	return w*1_000_000 + f, nil
}

// digits reports whether s holds only ASCII digits.
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formatUSD writes micro-USD as a decimal string without trailing zeros.
func formatUSD(micros int64) string {
	neg := micros < 0
	if neg {
		micros = -micros
	}
	s := strconv.FormatInt(micros/1_000_000, 10)
	if f := micros % 1_000_000; f != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(1_000_000+f, 10)[1:], "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}
