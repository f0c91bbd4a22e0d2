// SPDX-License-Identifier: Apache-2.0

package client_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

func TestListAuditQuery(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))
	_, err := c.ListAudit(ctx, client.AuditFilter{Tenant: "acme", Provider: "openai", Action: "key.set", Since: since, Until: since.Add(time.Hour), Before: 9, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Requests()[1]
	q, _ := url.ParseQuery(r.Query)
	want := url.Values{"provider": {"openai"}, "action": {"key.set"}, "since": {"2024-12-31T23:00:00Z"}, "until": {"2025-01-01T00:00:00Z"}, "before": {"9"}, "limit": {"5"}}
	if diff := cmp.Diff(want, q); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if r.Path != "/api/v1/tenants/acme/audit" {
		t.Errorf("path = %s", r.Path)
	}
	if _, err := c.ListAudit(ctx, client.AuditFilter{}); err != nil {
		t.Fatal(err)
	}
	if r := s.Requests()[2]; r.Path != "/api/v1/audit" || r.Query != "" {
		t.Errorf("platform-wide request = %s?%s, want /api/v1/audit", r.Path, r.Query)
	}
	if _, err := c.ListAudit(ctx, client.AuditFilter{Tenant: "platform"}); err != nil {
		t.Fatal(err)
	}
	if r := s.Requests()[3]; r.Path != "/api/v1/audit" || r.Query != "tenant=platform" {
		t.Errorf("platform-scope request = %s?%s, want /api/v1/audit?tenant=platform", r.Path, r.Query)
	}
}

func TestAllAudit(t *testing.T) {
	_, c := MustFake(t)
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	var seqs []int64
	for ev, err := range c.AllAudit(ctx, client.AuditFilter{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ev.Seq)
	}
	if diff := cmp.Diff([]int64{5, 4, 3, 2, 1}, seqs); diff != "" {
		t.Errorf("sequence (-want +got):\n%s", diff)
	}

	var n int
	for range c.AllAudit(ctx, client.AuditFilter{Limit: 2}) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("break did not stop the iteration")
	}
}

func TestAllAuditError(t *testing.T) {
	s, c := MustFake(t)
	s.FailNext(403, keygate.CodeForbidden, "No.")
	var errs []string
	for _, err := range c.AllAudit(context.Background(), client.AuditFilter{}) {
		errs = append(errs, keygate.ErrorCode(err))
	}
	if diff := cmp.Diff([]string{keygate.CodeForbidden}, errs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestVerifyAudit(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	want := client.AuditVerification{OK: false, Events: 7, HeadSeq: 7, HeadHash: "ab", Error: "event 3: hash mismatch"}
	s.SetVerification(want)
	got, err := c.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("VerifyAudit (-want +got):\n%s", diff)
	}
}
