package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/client"
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
