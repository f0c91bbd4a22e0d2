// SPDX-License-Identifier: Apache-2.0

package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/testkit"
)

// TestUsageByUser: group_by=user sums each end user's calls (calls naming
// none in a row without user), user= keeps one user's calls in the rows
// and the totals, and a user that is not a valid id is refused without
// being echoed.
func TestUsageByUser(t *testing.T) {
	a, db := MustAPI(t)
	tok := MustToken(t, db, keygate.RolePlatformAdmin, "")
	now := time.Now().UTC().Add(-2 * time.Hour)
	ev := func(id, user string, in int64, cost int64) keygate.UsageEvent {
		return keygate.UsageEvent{RequestID: id, Time: now, Tenant: "tn_acme", EndUser: user, Provider: "openai", Model: "gpt-4o",
			Source: keygate.SourcePlatform, Status: 200, InputTokens: in, CostMicros: cost, Billable: true}
	}
	if err := db.InsertUsage(context.Background(), []keygate.UsageEvent{
		ev("req_1", "alice", 10, 1000), ev("req_2", "bob", 20, 2000), ev("req_3", "alice", 5, 500), ev("req_4", "", 7, 700),
	}); err != nil {
		t.Fatal(err)
	}
	get := func(t *testing.T, query string) (int, string) {
		r := httptest.NewRequest("GET", "/api/v1/tenants/acme/usage?"+query, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, r)
		return rec.Code, rec.Body.String()
	}
	type row struct {
		User        string `json:"user"`
		Requests    int64  `json:"requests"`
		InputTokens int64  `json:"input_tokens"`
		CostUSD     string `json:"cost_usd"`
	}
	var out struct {
		User         string `json:"user"`
		Rows         []row  `json:"rows"`
		PlatformPaid struct {
			Requests int64 `json:"requests"`
		} `json:"platform_paid"`
	}
	code, body := get(t, "group_by=user")
	if code != 200 {
		t.Fatalf("group_by=user: %d %s", code, body)
	}
	_ = json.Unmarshal([]byte(body), &out)
	want := []row{{"", 1, 7, "0.0007"}, {"alice", 2, 15, "0.0015"}, {"bob", 1, 20, "0.002"}}
	if diff := cmp.Diff(want, out.Rows); diff != "" {
		t.Errorf("group_by=user rows (-want +got):\n%s", diff)
	}
	out.Rows = nil
	code, body = get(t, "user=alice")
	_ = json.Unmarshal([]byte(body), &out)
	if code != 200 || out.User != "alice" || out.PlatformPaid.Requests != 2 || len(out.Rows) != 1 || out.Rows[0].Requests != 2 {
		t.Errorf("user=alice: %d %s", code, body)
	}
	for _, q := range []string{"user=" + url.QueryEscape(testkit.CanaryOpenAIKey), "user=a%20b", "user=", "user=a&user=b"} {
		code, body = get(t, q)
		if code != 400 || !strings.Contains(body, "user must be one end-user id") {
			t.Errorf("%s: %d %s, want 400 naming user", q, code, body)
		}
		testkit.AssertNoCanary(t, "the answer", []byte(body))
	}
}

// TestPerUserBudgetRoundTrip: the per-user daily limits are set and read
// back through the budget endpoint, and refused by name when negative.
func TestPerUserBudgetRoundTrip(t *testing.T) {
	a, db := MustAPI(t)
	tok := MustToken(t, db, keygate.RolePlatformAdmin, "")
	do := func(method, body string) (int, string) {
		r := httptest.NewRequest(method, "/api/v1/tenants/acme/budget", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, r)
		return rec.Code, rec.Body.String()
	}
	if code, body := do("PUT", `{"hard":true,"per_user_daily_usd":"0.25","per_user_daily_tokens":5000}`); code != 200 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	code, body := do("GET", "")
	if code != 200 || !strings.Contains(body, `"per_user_daily_usd":"0.25"`) || !strings.Contains(body, `"per_user_daily_tokens":5000`) {
		t.Errorf("GET: %d %s", code, body)
	}
	if code, body := do("PUT", `{"per_user_daily_tokens":-1}`); code != 400 || !strings.Contains(body, "per_user_daily_tokens must not be negative") {
		t.Errorf("negative: %d %s", code, body)
	}
}
