// SPDX-License-Identifier: Apache-2.0

package loadtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/loadtest"
)

const key = loadtest.KeyPrefix + "test-0123456789"

// MustServe serves h on a loopback port for the test's duration.
func MustServe(tb testing.TB, h http.Handler) string {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv.URL
}

// MustFake serves the fake with its allocation and answered-calls
// counters and returns its URL and a reader of its answered count.
func MustFake(tb testing.TB) (string, func(context.Context) (uint64, error)) {
	tb.Helper()
	fake := loadtest.NewFake(loadtest.FakeOptions{Chunks: 5})
	mux := http.NewServeMux()
	mux.Handle("/__bench/mallocs", loadtest.MallocsHandler())
	mux.Handle("/__bench/answered", fake.AnsweredHandler())
	mux.Handle("/", fake)
	u := MustServe(tb, mux)
	return u, loadtest.ScrapeCounter(http.DefaultClient, u+"/__bench/answered", loadtest.AnsweredMetric)
}

// MustURL parses u.
func MustURL(tb testing.TB, u string) *url.URL {
	tb.Helper()
	p, err := url.Parse(u)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// peerHeader is the routing header the stand-in peer requires, as Portkey
// requires x-portkey-provider.
const peerHeader = "X-Peer-Provider"

// peer is a stand-in for a peer gateway: the baseline behind a check of
// the routing header, which refuses a call without it.
func peer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(peerHeader) != "openai" {
			http.Error(w, `{"status":"failure","message":"provider header is required"}`, http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// MustTargets starts the fake and bare reverse proxies in-process: the
// baseline, and stand-ins for keygate (on SQLite, on PostgreSQL, other
// builds) and for the peer, which needs a routing header and carries no
// embeddings. Process accounting reads this test's own process.
func MustTargets(tb testing.TB) loadtest.Targets {
	tb.Helper()
	fake, answered := MustFake(tb)
	up := MustURL(tb, fake+"/openai")
	pid := os.Getpid()
	mallocs := loadtest.ScrapeMallocs(http.DefaultClient, fake+"/__bench/mallocs")
	proxy := func(name string, tokens ...string) loadtest.Target {
		return loadtest.Target{Name: name, URL: MustServe(tb, loadtest.NewBaseline(up, key)) + "/v1", Tokens: tokens, PID: pid, Mallocs: mallocs, Upstream: answered}
	}
	return loadtest.Targets{
		Direct:           loadtest.Target{URL: fake + "/openai/v1", Tokens: []string{key}, PID: pid, Mallocs: mallocs, Upstream: answered},
		Baseline:         proxy("", "kg_a"),
		Keygate:          proxy("keygate", "kg_b"),
		GovernedTenant:   proxy("keygate-tenant-key", "kg_c"),
		GovernedPlatform: proxy("keygate-platform-key", "kg_d"),
		Many:             proxy("keygate-5-tenants", "kg_1", "kg_2", "kg_3", "kg_4", "kg_5"),
		Postgres:         proxy("", "kg_f"),
		Peer: loadtest.Target{URL: MustServe(tb, peer(loadtest.NewBaseline(up, key))) + "/v1", Tokens: []string{key}, PID: pid, Upstream: answered,
			Headers: http.Header{peerHeader: {"openai"}}, Unsupported: map[loadtest.Kind]string{loadtest.KindEmbeddings: "no embeddings here"}},
		Others: []loadtest.Target{proxy("keygate-other", "kg_e")},
	}
}

// TestRun runs every scenario in a tiny configuration and checks that the
// report is complete and its comparisons are computed from its own
// numbers. It asserts nothing about speed.
func TestRun(t *testing.T) {
	targets := MustTargets(t)
	rep, err := loadtest.Run(context.Background(), loadtest.Config{
		Targets:      targets,
		Concurrency:  4,
		Duration:     150 * time.Millisecond,
		Warmup:       -1,
		MaxRequests:  200,
		Rounds:       2,
		StreamChunks: 5, StreamInterval: time.Millisecond,
		OpenStreams: 10, StreamHold: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}

	var names []string
	for _, s := range rep.Scenarios {
		names = append(names, s.Name)
	}
	if diff := cmp.Diff(loadtest.Scenarios(), names); diff != "" {
		t.Errorf("scenarios (-want +got):\n%s", diff)
	}
	wantTargets := map[string][]string{
		loadtest.ScenarioChat:       {"direct", "baseline", "keygate", "keygate-pg", "portkey", "keygate-other"},
		loadtest.ScenarioChatOpen:   {"direct", "baseline", "keygate", "keygate-other"},
		loadtest.ScenarioStream:     {"direct", "baseline", "keygate", "portkey", "keygate-other"},
		loadtest.ScenarioEmbeddings: {"direct", "baseline", "keygate", "keygate-other"},
		loadtest.ScenarioGoverned:   {"baseline", "keygate", "keygate-tenant-key", "keygate-platform-key"},
		loadtest.ScenarioTenants:    {"keygate-5-tenants-cold", "baseline", "keygate-5-tenants-warm"},
	}
	results := map[string]map[string]loadtest.Result{}
	for _, s := range rep.Scenarios {
		if s.Name == loadtest.ScenarioOpenStreams {
			continue
		}
		results[s.Name] = map[string]loadtest.Result{}
		var got []string
		for _, r := range s.Results {
			got = append(got, r.Target)
			results[s.Name][r.Target] = r
			if r.Requests == 0 || r.Errors != 0 || r.RPS <= 0 || r.Latency.P50 <= 0 || r.Latency.P999 < r.Latency.P50 {
				t.Errorf("%s/%s: malformed result %+v", s.Name, r.Target, r)
			}
			if r.Server == nil || (r.AllocsPerRequest <= 0 && r.Target != "portkey") {
				t.Errorf("%s/%s: no server usage or allocations", s.Name, r.Target)
			}
			if r.UpstreamAnswered == nil || *r.UpstreamAnswered < r.Requests {
				t.Errorf("%s/%s: %d answers, the fake answered %v", s.Name, r.Target, r.Requests, r.UpstreamAnswered)
			}
			if (s.Workload.Kind == loadtest.KindStream) != (r.TTFB != nil && r.ChunkGap != nil && r.TTFB.N > 0 && r.ChunkGap.N > 0) {
				t.Errorf("%s/%s: stream numbers %v %v", s.Name, r.Target, r.TTFB, r.ChunkGap)
			}
		}
		if diff := cmp.Diff(wantTargets[s.Name], got); diff != "" {
			t.Errorf("%s targets (-want +got):\n%s", s.Name, diff)
		}
		var wantSkipped []string
		if s.Name == loadtest.ScenarioEmbeddings {
			wantSkipped = []string{"portkey: skipped (no embeddings here)"}
		}
		if diff := cmp.Diff(wantSkipped, s.Skipped); diff != "" {
			t.Errorf("%s skipped (-want +got):\n%s", s.Name, diff)
		}
	}

	// The comparisons are differences and ratios of the report's own
	// numbers.
	chat := results[loadtest.ScenarioChat]
	kg, base, direct := chat["keygate"], chat["baseline"], chat["direct"]
	if kg.AddedVsDirect == nil || kg.AddedVsDirect.P50 != kg.Latency.P50-direct.Latency.P50 {
		t.Errorf("added vs direct = %+v, want p50 %v", kg.AddedVsDirect, kg.Latency.P50-direct.Latency.P50)
	}
	if kg.AddedVsBaseline == nil || kg.AddedVsBaseline.P99 != kg.Latency.P99-base.Latency.P99 {
		t.Errorf("added vs baseline = %+v, want p99 %v", kg.AddedVsBaseline, kg.Latency.P99-base.Latency.P99)
	}
	if direct.AddedVsDirect != nil || base.AddedVsBaseline != nil {
		t.Errorf("a target compared with itself")
	}
	h := rep.Headline
	if h.ThroughputRatio != kg.RPS/base.RPS {
		t.Errorf("throughput ratio %v, want %v", h.ThroughputRatio, kg.RPS/base.RPS)
	}
	if base.Server.CPUPer1k > 0 && h.CPURatio != kg.Server.CPUPer1k/base.Server.CPUPer1k {
		t.Errorf("cpu ratio %v, want %v", h.CPURatio, kg.Server.CPUPer1k/base.Server.CPUPer1k)
	}
	open := results[loadtest.ScenarioChatOpen]["keygate"]
	if h.AddedP50 != open.Latency.P50-results[loadtest.ScenarioChatOpen]["baseline"].Latency.P50 {
		t.Errorf("added p50 %v does not come from the open loop", h.AddedP50)
	}
	var ratios []string
	for _, r := range h.Ratios {
		ratios = append(ratios, r.Target)
		x := chat[r.Target]
		if r.Throughput != x.RPS/base.RPS || r.CPU != x.Server.CPUPer1k/base.Server.CPUPer1k || r.PeakRSSMiB != x.Server.PeakRSSMiB {
			t.Errorf("ratio of %s = %+v; want from %+v over %+v", r.Target, r, x, base)
		}
	}
	if diff := cmp.Diff([]string{"keygate", "keygate-pg", "portkey", "keygate-other"}, ratios); diff != "" {
		t.Errorf("headline ratios (-want +got):\n%s", diff)
	}
	var checks []string
	for _, c := range h.Checks {
		checks = append(checks, c.Name)
	}
	for _, want := range []string{"throughput vs baseline", "CPU per request", "peak RSS", "added p50", "added p99", "memory per open stream"} {
		if !slices.ContainsFunc(checks, func(c string) bool { return strings.HasPrefix(c, want) }) {
			t.Errorf("no headline check %q in %q", want, checks)
		}
	}

	streams := rep.Scenarios[len(rep.Scenarios)-1].Streams
	if len(streams) != 2 {
		t.Fatalf("open-streams measured %d targets, want baseline and keygate", len(streams))
	}
	for _, m := range streams {
		if m.Opened != m.Streams || m.Errors != 0 || m.BeforeMiB <= 0 {
			t.Errorf("open-streams %s: %+v", m.Target, m)
		}
	}

	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back loadtest.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("the JSON report does not decode: %v", err)
	}
	if len(back.Scenarios) != len(rep.Scenarios) || back.Headline.ThroughputRatio != h.ThroughputRatio {
		t.Errorf("the JSON report lost data")
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range append(loadtest.Scenarios(), "headline", "keygate-other", "ratios over the bare reverse proxy", "portkey: skipped (no embeddings here)", "gen CPU %") {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q", want)
		}
	}
}

// TestFakeRefusesWrongKey checks that the fake counts a call without the
// injected provider key as a failure: a proxy that forwarded the caller's
// token would show up as errors, not as speed.
func TestFakeRefusesWrongKey(t *testing.T) {
	fake := MustServe(t, loadtest.NewFake(loadtest.FakeOptions{}))
	tests := []struct {
		name string
		auth string
		want int
	}{
		{"OK", "Bearer " + key, http.StatusOK},
		{"ErrGatewayToken", "Bearer kg_token", http.StatusUnauthorized},
		{"ErrNone", "", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, fake+"/openai/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini"}`))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// TestFakeStream checks the stream shape: N chunks, the usage chunk when
// asked for, then [DONE].
func TestFakeStream(t *testing.T) {
	fake := MustServe(t, loadtest.NewFake(loadtest.FakeOptions{Chunks: 20}))
	tests := []struct {
		name       string
		body       string
		chunks     string
		wantEvents int
	}{
		{"Default20", `{"stream":true}`, "", 21},
		{"WithUsage", `{"stream":true,"stream_options":{"include_usage":true}}`, "", 22},
		{"Header3", `{"stream":true}`, "3", 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, fake+"/v1/chat/completions", strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+key)
			if tc.chunks != "" {
				req.Header.Set(loadtest.HeaderChunks, tc.chunks)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			if _, err := b.ReadFrom(resp.Body); err != nil {
				t.Fatal(err)
			}
			events := strings.Count(b.String(), "\n\n")
			if events != tc.wantEvents || !strings.HasSuffix(b.String(), "data: [DONE]\n\n") {
				t.Errorf("%d events, want %d:\n%s", events, tc.wantEvents, b.String())
			}
			for _, ev := range strings.Split(strings.TrimSuffix(b.String(), "\n\n"), "\n\n") {
				data := strings.TrimPrefix(ev, "data: ")
				if data != "[DONE]" && !json.Valid([]byte(data)) {
					t.Errorf("event is not JSON: %s", data)
				}
			}
		})
	}
}
