// SPDX-License-Identifier: Apache-2.0

package api

import (
	"encoding/json"
	"fmt"
	"math"
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

// maxUSD is the largest budget amount accepted, in whole dollars.
const maxUSD = 1_000_000_000_000

// usdField reads the budget amount named field from its raw JSON (a number
// or a decimal string): nil when absent or null, else micro-USD, or an
// invalid_request that names the field and says what is wrong (negative,
// not a number, too many decimals, out of range). The value itself is not
// repeated.
func usdField(field string, raw json.RawMessage) (*int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	s := string(raw)
	switch s[0] {
	case '"':
		unq, err := strconv.Unquote(s)
		if err != nil {
			return nil, keygate.Errorf(keygate.CodeInvalidJSON, "The request body is not valid JSON for this endpoint: field %s must be a decimal string or number.", field)
		}
		s = strings.TrimSpace(unq)
	case 't', 'f', '{', '[':
		return nil, keygate.Errorf(keygate.CodeInvalidJSON, "The request body is not valid JSON for this endpoint: field %s must be a decimal string or number.", field)
	}
	bad := func(reason string) error {
		return keygate.Errorf(keygate.CodeInvalidRequest, "%s %s.", field, reason)
	}
	switch l := strings.ToLower(strings.TrimLeft(s, "+-")); {
	case l == "nan" || l == "inf" || l == "infinity":
		return nil, bad("must be a finite amount in USD, such as 12.50 (NaN and infinity are not amounts)")
	case strings.HasPrefix(s, "-"):
		return nil, bad("must not be negative")
	case strings.ContainsAny(s, "eE") && s != "" && s[0] >= '0' && s[0] <= '9':
		return nil, bad("must be a plain decimal such as 12.50, without an exponent")
	}
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") || !digits(whole) || !digits(frac) {
		return nil, bad("must be an amount in USD: a non-negative decimal such as 12.50")
	}
	if len(frac) > 6 {
		return nil, bad("has more than 6 decimal places (the smallest amount is 0.000001 USD)")
	}
	if w, err := strconv.ParseInt(whole, 10, 64); err != nil || w > maxUSD {
		return nil, bad(fmt.Sprintf("is out of range: at most %d USD", int64(maxUSD)))
	}
	v, err := parseUSD(s)
	if err != nil {
		return nil, bad("must be an amount in USD: a non-negative decimal such as 12.50")
	}
	return &v, nil
}

// tokensField reads the token limit named field from its raw JSON: nil
// when absent or null, else a non-negative whole number, or an
// invalid_request that names the field and the reason.
func tokensField(field string, raw json.RawMessage) (*int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	bad := func(reason string) error {
		return keygate.Errorf(keygate.CodeInvalidRequest, "%s %s.", field, reason)
	}
	s := string(raw)
	if c := s[0]; c == '"' || c == 't' || c == 'f' || c == '{' || c == '[' {
		return nil, keygate.Errorf(keygate.CodeInvalidJSON, "The request body is not valid JSON for this endpoint: field %s must be a whole number.", field)
	}
	if strings.HasPrefix(s, "-") {
		return nil, bad("must not be negative")
	}
	if strings.ContainsAny(s, ".eE") {
		return nil, bad("must be a whole number of tokens, without a fraction or an exponent")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, bad(fmt.Sprintf("is out of range: at most %d", int64(math.MaxInt64)))
	}
	return &v, nil
}
