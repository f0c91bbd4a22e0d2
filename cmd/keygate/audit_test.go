// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/client/clienttest"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"2025-06-01T08:00:00Z", time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC), false},
		{"2025-06-01T10:00:00+02:00", time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC), false},
		{"2025-06-01", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), false},
		{"24h", now.Add(-24 * time.Hour), false},
		{"90m", now.Add(-90 * time.Minute), false},
		{"7d", now.AddDate(0, 0, -7), false},
		{"-1h", time.Time{}, true},
		{"yesterday", time.Time{}, true},
		{"7x", time.Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseTime(tc.in, now)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseTime(%q) error = %v, want error: %v", tc.in, err, tc.wantErr)
			}
			if !got.Equal(tc.want) {
				t.Errorf("parseTime(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestAuditList(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")
	MustRun(t, s, canary, "key", "set", "--tenant", "acme", "--provider", "openai")
	MustRun(t, s, canary, "key", "set", "--tenant", "acme", "--provider", "openai")

	r := MustRun(t, s, "", "audit", "--tenant", "acme")
	want := "" +
		"TIME                  ACTION          TENANT   PROVIDER  VERSION  HINT     ACTOR\n" +
		"2025-01-02T03:04:08Z  key.rotated     tn_0001  openai    2        ...xK7q  bootstrap\n" +
		"2025-01-02T03:04:07Z  key.set         tn_0001  openai    1        ...xK7q  bootstrap\n" +
		"2025-01-02T03:04:06Z  tenant.created  tn_0001  -         -        -        bootstrap\n"
	if diff := cmp.Diff(result{stdout: want}, r, cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("audit table (-want +got):\n%s", diff)
	}

	// "audit list" is the same command; filters reach the query.
	r = MustRun(t, s, "", "audit", "list", "--tenant", "acme", "--action", "key.set", "--since", "48h", "--json")
	var page client.AuditPage
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil {
		t.Fatalf("audit --json %q: %v", r.stdout, err)
	}
	if len(page.Events) != 1 || page.Events[0].Action != "key.set" {
		t.Errorf("filtered events = %+v", page.Events)
	}
	reqs := s.Requests()
	q, _ := url.ParseQuery(reqs[len(reqs)-1].Query)
	if diff := cmp.Diff(url.Values{"action": {"key.set"}, "since": {"2025-01-01T03:04:05Z"}}, q); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
}

func TestAuditPaging(t *testing.T) {
	s := MustFake(t)
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		MustTenant(t, s, n)
	}
	r := MustRun(t, s, "", "audit", "--limit", "2")
	if got := strings.Count(r.stdout, "tenant.created"); got != 2 || !strings.Contains(r.stderr, "--before 4") {
		t.Errorf("one page: %d events, stderr %q; want 2 and a pointer to --before 4", got, r.stderr)
	}
	r = MustRun(t, s, "", "audit", "--limit", "2", "--all", "--json")
	var page client.AuditPage
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, ev := range page.Events {
		seqs = append(seqs, ev.Seq)
	}
	if diff := cmp.Diff([]int64{5, 4, 3, 2, 1}, seqs); diff != "" || page.NextBefore != 0 {
		t.Errorf("--all: next_before %d, seqs (-want +got):\n%s", page.NextBefore, diff)
	}
}

func TestAuditVerify(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")
	r := MustRun(t, s, "", "audit", "verify")
	want := "chain:      ok\nevents:     1\nhead seq:   1\nhead hash:  " + strings.Repeat("0", 63) + "1\nerror:      -\n"
	if diff := cmp.Diff(result{stdout: want}, r, cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("audit verify (-want +got):\n%s", diff)
	}

	s.SetVerification(client.AuditVerification{OK: false, Events: 3, HeadSeq: 3, HeadHash: "ff", Error: "event 2: hash mismatch"})
	r = MustRun(t, s, "", "audit", "verify", "--json")
	var v client.AuditVerification
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.OK {
		t.Errorf("broken chain --json = %q (%v)", r.stdout, err)
	}
	if r.exit != exitFailure || r.stderr != "keygate: the audit chain is broken: event 2: hash mismatch (audit_chain_broken)\n" {
		t.Errorf("broken chain: exit %d, stderr %q", r.exit, r.stderr)
	}
}

func TestAuditExport(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")
	MustTenant(t, s, "beta")
	MustRun(t, s, canary, "key", "set", "--tenant", "acme", "--provider", "openai")
	// The fake answers pages of two events, so the export must follow
	// next_before across pages.
	small := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("limit") != "1000" {
			t.Errorf("export page size = %q, want 1000", q.Get("limit"))
		}
		q.Set("limit", "2")
		r.URL.RawQuery = q.Encode()
		s.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(small.Close)
	env := map[string]string{"KEYGATE_ADDR": small.URL, "KEYGATE_TOKEN": clienttest.Token}

	tests := []struct {
		name     string
		args     []string
		wantSeqs []int64
	}{
		{"All", nil, []int64{3, 2, 1}},
		{"Tenant", []string{"--tenant", "acme"}, []int64{3, 1}},
		{"TenantAction", []string{"--tenant", "acme", "--action", "key.set", "--format", "jsonl"}, []int64{3}},
		{"SinceNothing", []string{"--since", "1h"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runEnv(t, env, "", append([]string{"audit", "export"}, tc.args...)...)
			noLeak(t, r)
			if r.exit != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.exit, r.stderr)
			}
			var seqs []int64
			for _, line := range strings.SplitAfter(r.stdout, "\n") {
				if line == "" {
					continue
				}
				var ev client.AuditEvent
				if err := json.Unmarshal([]byte(line), &ev); err != nil || !strings.HasSuffix(line, "}\n") || strings.Count(line, "\n") != 1 {
					t.Fatalf("line %q is not one JSON object on one line (%v)", line, err)
				}
				seqs = append(seqs, ev.Seq)
			}
			if diff := cmp.Diff(tc.wantSeqs, seqs); diff != "" {
				t.Errorf("exported seqs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuditExportErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		failNext bool
		want     result
	}{
		{"ErrFormat", []string{"--format", "csv"}, false, result{exit: exitUsage,
			stderr: "keygate: audit export: --format \"csv\" is not supported: jsonl is the only format (usage)\nRun 'keygate help' for usage.\n"}},
		{"ErrSince", []string{"--since", "yesterday"}, false, result{exit: exitUsage,
			stderr: "keygate: audit export: --since: \"yesterday\" is not an RFC 3339 time, a date (2006-01-02) or a duration such as 24h or 7d (usage)\nRun 'keygate help' for usage.\n"}},
		{"ErrArgument", []string{"acme"}, false, result{exit: exitUsage,
			stderr: "keygate: audit export: unexpected argument \"acme\" (flags such as --byok take their value after '=', e.g. --byok=false) (usage)\nRun 'keygate help' for usage.\n"}},
		{"ErrServer", nil, true, result{exit: exitUnauthorized, stderr: "keygate: Only a platform admin may do this. (forbidden)\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustFake(t)
			if tc.failNext {
				s.FailNext(http.StatusForbidden, "forbidden", "Only a platform admin may do this.")
			}
			r := MustRun(t, s, "", append([]string{"audit", "export"}, tc.args...)...)
			if diff := cmp.Diff(tc.want, r, cmp.AllowUnexported(result{})); diff != "" {
				t.Errorf("audit export (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuditExportFailsPartWay(t *testing.T) {
	s := MustFake(t)
	for _, n := range []string{"a", "b", "c"} {
		MustTenant(t, s, n)
	}
	// The first page holds two events; the request for the next one fails.
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("before") != "" {
			s.FailNext(http.StatusServiceUnavailable, "unavailable", "The database is not reachable.")
		}
		q.Set("limit", "2")
		r.URL.RawQuery = q.Encode()
		s.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	r := runEnv(t, map[string]string{"KEYGATE_ADDR": hs.URL, "KEYGATE_TOKEN": clienttest.Token}, "", "audit", "export")
	if got := strings.Count(r.stdout, "\n"); got != 2 {
		t.Errorf("%d events written before the failure, want 2", got)
	}
	want := "keygate: export stopped after 2 events\nkeygate: The database is not reachable. (unavailable)\n"
	if r.exit != exitFailure || r.stderr != want {
		t.Errorf("exit %d, stderr %q; want exit 1, stderr %q", r.exit, r.stderr, want)
	}
}
