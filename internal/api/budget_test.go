// SPDX-License-Identifier: Apache-2.0

package api

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate"
)

// TestBudgetValuesRefusedByName: a budget value that is negative, not a
// number, too precise or out of range is a 400 invalid_request whose
// message names the field and the reason, not "malformed JSON".
func TestBudgetValuesRefusedByName(t *testing.T) {
	a, db := MustAPI(t)
	tok := MustToken(t, db, keygate.RolePlatformAdmin, "")
	tests := []struct {
		name, body string
		status     int
		message    string
	}{
		{"NegativeUSDNumber", `{"daily_usd":-5}`, 400, "daily_usd must not be negative."},
		{"NegativeUSDString", `{"monthly_usd":"-0.5"}`, 400, "monthly_usd must not be negative."},
		{"NaN", `{"daily_usd":"NaN"}`, 400, "daily_usd must be a finite amount in USD, such as 12.50 (NaN and infinity are not amounts)."},
		{"Infinity", `{"monthly_usd":"-Infinity"}`, 400, "monthly_usd must be a finite amount in USD, such as 12.50 (NaN and infinity are not amounts)."},
		{"Exponent", `{"daily_usd":1e3}`, 400, "daily_usd must be a plain decimal such as 12.50, without an exponent."},
		{"TooPrecise", `{"daily_usd":"0.0000001"}`, 400, "daily_usd has more than 6 decimal places (the smallest amount is 0.000001 USD)."},
		{"USDOutOfRange", `{"monthly_usd":10000000000000}`, 400, "monthly_usd is out of range: at most 1000000000000 USD."},
		{"USDHuge", `{"monthly_usd":"99999999999999999999999"}`, 400, "monthly_usd is out of range: at most 1000000000000 USD."},
		{"USDWord", `{"daily_usd":"ten"}`, 400, "daily_usd must be an amount in USD: a non-negative decimal such as 12.50."},
		{"USDBool", `{"daily_usd":true}`, 400, "The request body is not valid JSON for this endpoint: field daily_usd must be a decimal string or number."},
		{"NegativeTokens", `{"daily_tokens":-1}`, 400, "daily_tokens must not be negative."},
		{"FractionTokens", `{"monthly_tokens":1.5}`, 400, "monthly_tokens must be a whole number of tokens, without a fraction or an exponent."},
		{"TokensOutOfRange", `{"monthly_tokens":99999999999999999999}`, 400, "monthly_tokens is out of range: at most 9223372036854775807."},
		{"TokensString", `{"daily_tokens":"5"}`, 400, "The request body is not valid JSON for this endpoint: field daily_tokens must be a whole number."},
		{"Valid", `{"daily_usd":"12.5","monthly_usd":100,"daily_tokens":1000,"monthly_tokens":null}`, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", "/api/v1/tenants/acme/budget", strings.NewReader(tc.body))
			r.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, r)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status != 400 {
				return
			}
			code := "invalid_request"
			if strings.HasPrefix(tc.message, "The request body is not valid JSON") {
				code = "invalid_json"
			}
			want := `{"error":{"code":"` + code + `","message":"` + tc.message + `"}}`
			if diff := cmp.Diff(want, strings.TrimSpace(rec.Body.String())); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}
