// SPDX-License-Identifier: Apache-2.0

package loadtest_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/loadtest"
)

// TestProbe checks that a probe passes only a target whose answer is the
// fake's and reached the fake: not one that answers errors, nor one that
// answers 200 by itself.
func TestProbe(t *testing.T) {
	fake, answered := MustFake(t)
	up := MustURL(t, fake+"/openai")
	// Another fake, whose answers look right but whose calls the first
	// fake never sees: a gateway that answers from a cache looks like this.
	elsewhere := MustServe(t, loadtest.NewFake(loadtest.FakeOptions{Chunks: 5}))
	empty := MustServe(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{}")) }))
	target := func(base string, tokens ...string) loadtest.Target {
		return loadtest.Target{Name: "peer", URL: base, Tokens: tokens, Upstream: answered}
	}
	tests := []struct {
		name    string
		target  loadtest.Target
		kind    loadtest.Kind
		wantErr string
	}{
		{"OKChat", target(MustServe(t, loadtest.NewBaseline(up, key))+"/v1", "kg_a"), loadtest.KindChat, ""},
		{"OKStream", target(MustServe(t, loadtest.NewBaseline(up, key))+"/v1", "kg_a"), loadtest.KindStream, ""},
		{"OKEmbeddings", target(MustServe(t, loadtest.NewBaseline(up, key))+"/v1", "kg_a"), loadtest.KindEmbeddings, ""},
		{"OKHeaders", loadtest.Target{Name: "peer", URL: MustServe(t, peer(loadtest.NewBaseline(up, key))) + "/v1", Tokens: []string{key}, Upstream: answered, Headers: http.Header{peerHeader: {"openai"}}}, loadtest.KindChat, ""},
		{"ErrNoHeaders", target(MustServe(t, peer(loadtest.NewBaseline(up, key)))+"/v1", key), loadtest.KindChat, "HTTP 400: {\"status\":\"failure\""},
		{"ErrRefusedKey", target(MustServe(t, loadtest.NewBaseline(up, "sk-wrong"))+"/v1", "kg_a"), loadtest.KindChat, "HTTP 401"},
		{"ErrNotFromTheFake", target(elsewhere+"/v1", key), loadtest.KindChat, "the fake answered no call"},
		{"ErrNotTheFakesAnswer", target(empty+"/v1", key), loadtest.KindEmbeddings, "lacks the fake's"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := loadtest.Probe(context.Background(), tc.target, loadtest.Workload{Kind: tc.kind})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("probe: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("probe: %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}

// TestErrorsAreNotSpeed checks that a target that answers errors is
// reported with its errors counted by status and shown, and no req/s.
func TestErrorsAreNotSpeed(t *testing.T) {
	fake, answered := MustFake(t)
	refused := loadtest.Target{Name: "refused", URL: MustServe(t, loadtest.NewBaseline(MustURL(t, fake+"/openai"), "sk-wrong")) + "/v1", Tokens: []string{"kg_a"}, Upstream: answered}
	r, err := loadtest.Measure(context.Background(), refused, loadtest.Workload{Kind: loadtest.KindChat}, loadtest.Load{Mode: loadtest.Closed, Concurrency: 2, Duration: time.Minute, MaxRequests: 20})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 0 || r.RPS != 0 || r.Errors != 20 {
		t.Errorf("requests %d, req/s %v, errors %d; want 0, 0, 20", r.Requests, r.RPS, r.Errors)
	}
	if diff := cmp.Diff(map[string]uint64{"HTTP 401": 20}, r.ErrorKinds); diff != "" {
		t.Errorf("error kinds (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.FirstError, "Incorrect API key") {
		t.Errorf("first error %q does not show what the fake said", r.FirstError)
	}
	rep := loadtest.Report{Scenarios: []loadtest.ScenarioResult{{Name: "chat", Results: []loadtest.Result{r}}}}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "errors of refused: 20 × HTTP 401; the first: HTTP 401: ") {
		t.Errorf("the table does not show the errors:\n%s", table.String())
	}
}

// TestRunSkipsTargets checks that a target that could not be set up is
// left out of every scenario and said so, in the notes and the ratios.
func TestRunSkipsTargets(t *testing.T) {
	targets := MustTargets(t)
	targets.Peer = loadtest.Target{Skipped: "npm not found on PATH"}
	targets.Postgres = loadtest.Target{}
	targets.Others = nil
	rep, err := loadtest.Run(context.Background(), loadtest.Config{
		Targets: targets, Concurrency: 2, Duration: 100 * time.Millisecond, Warmup: -1, MaxRequests: 50,
		Only: []string{loadtest.ScenarioChat, loadtest.ScenarioStream},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Scenarios {
		for _, r := range s.Results {
			if r.Target == "portkey" {
				t.Errorf("%s measured the skipped peer", s.Name)
			}
		}
		if len(s.Skipped) != 0 {
			t.Errorf("%s lists %q; a skipped target belongs in the notes once", s.Name, s.Skipped)
		}
	}
	if !slices.Contains(rep.Notes, "portkey: skipped (npm not found on PATH)") {
		t.Errorf("notes %q do not say the peer was skipped", rep.Notes)
	}
	want := []loadtest.Ratio{{Target: "keygate"}, {Target: "portkey", Skipped: "npm not found on PATH"}}
	got := rep.Headline.Ratios
	for i := range got {
		got[i] = loadtest.Ratio{Target: got[i].Target, Skipped: got[i].Skipped}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ratios (-want +got):\n%s", diff)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "note: portkey: skipped (npm not found on PATH)") {
		t.Errorf("the table does not say the peer was skipped:\n%s", table.String())
	}
}

// TestClosedLoopWaitsForCallsInFlight checks that the calls in flight when
// a closed loop ends are waited for and counted, not cut: a slow server
// keeps working on a dropped call, and that work must not land in the next
// run with no call to charge it to.
func TestClosedLoopWaitsForCallsInFlight(t *testing.T) {
	fake, _ := MustFake(t)
	proxy := loadtest.NewBaseline(MustURL(t, fake+"/openai"), key)
	slow := MustServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Second) // longer than the run: every call is in flight at its end
		proxy.ServeHTTP(w, r)
	}))
	target := loadtest.Target{Name: "slow", URL: slow + "/v1", Tokens: []string{"kg_a"}}
	r, err := loadtest.Measure(context.Background(), target, loadtest.Workload{Kind: loadtest.KindChat}, loadtest.Load{Mode: loadtest.Closed, Concurrency: 4, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 4 || r.Errors != 0 {
		t.Errorf("%d answers and %d errors, want the 4 calls in flight answered", r.Requests, r.Errors)
	}
}
