// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

// MustAppend appends ev and fails tb on error.
func MustAppend(tb testing.TB, s keygate.Store, ev keygate.AuditEvent) keygate.AuditEvent {
	tb.Helper()
	got, err := s.AppendAudit(tb.Context(), ev)
	if err != nil {
		tb.Fatalf("AppendAudit(%s): %v", ev.Action, err)
	}
	return got
}

// matches is the reference implementation of keygate.AuditFilter (but for
// Limit).
func matches(ev keygate.AuditEvent, f keygate.AuditFilter) bool {
	return (f.Tenant == "" || ev.Tenant == f.Tenant) &&
		(f.Provider == "" || ev.Provider == f.Provider) &&
		(f.Action == "" || ev.Action == f.Action) &&
		(f.Since.IsZero() || !ev.Time.Before(f.Since)) &&
		(f.Until.IsZero() || ev.Time.Before(f.Until)) &&
		(f.BeforeSeq == 0 || ev.Seq < f.BeforeSeq)
}

func testAuditAppendList(t *testing.T, e *env) {
	specs := []keygate.AuditEvent{
		{ID: "ev_explicit", Tenant: "tn_a", Provider: "openai", Action: keygate.ActionKeySet},
		{Tenant: "tn_b", Provider: "openai", Action: keygate.ActionKeySet},
		{Tenant: "tn_a", Provider: "anthropic", Action: keygate.ActionKeySet},
		{Tenant: "tn_a", Provider: "openai", Action: keygate.ActionKeyRotated},
		{Action: keygate.ActionMasterKeyRotate},
		{Tenant: "tn_b", Provider: "anthropic", Action: keygate.ActionKeyCleared},
		{Tenant: "tn_a", Action: keygate.ActionTenantDeleted},
	}
	var appended []keygate.AuditEvent
	for i, ev := range specs {
		e.clock.Advance(time.Minute)
		ev.ActorID, ev.ActorName = "at_test", "test"
		got := MustAppend(t, e.s, ev)
		if got.Seq != int64(i+1) || !got.Time.Equal(e.now()) || got.Hash == "" {
			t.Errorf("AppendAudit #%d = seq %d time %v hash %q; want seq %d time %v and a hash", i, got.Seq, got.Time, got.Hash, i+1, e.now())
		}
		if ev.ID == "" && !strings.HasPrefix(got.ID, "ev_") {
			t.Errorf("AppendAudit #%d: generated id %q does not start with ev_", i, got.ID)
		}
		if ev.ID != "" && got.ID != ev.ID {
			t.Errorf("AppendAudit #%d: id %q, want %q kept", i, got.ID, ev.ID)
		}
		appended = append(appended, got)
	}
	ev3 := appended[2]
	tests := []struct {
		name   string
		filter keygate.AuditFilter
	}{
		{"All", keygate.AuditFilter{}},
		{"Tenant", keygate.AuditFilter{Tenant: "tn_a"}},
		{"Provider", keygate.AuditFilter{Provider: "anthropic"}},
		{"Action", keygate.AuditFilter{Action: keygate.ActionKeySet}},
		{"SinceInclusive", keygate.AuditFilter{Since: ev3.Time}},
		{"SinceSubMicrosecond", keygate.AuditFilter{Since: ev3.Time.Add(time.Nanosecond)}},
		{"UntilExclusive", keygate.AuditFilter{Until: ev3.Time}},
		{"UntilSubMicrosecond", keygate.AuditFilter{Until: ev3.Time.Add(time.Nanosecond)}},
		{"SinceUntil", keygate.AuditFilter{Since: appended[1].Time, Until: appended[5].Time}},
		{"SinceOtherZone", keygate.AuditFilter{Since: ev3.Time.In(time.FixedZone("UTC-5", -5*3600))}},
		{"BeforeSeq", keygate.AuditFilter{BeforeSeq: 4}},
		{"Limit", keygate.AuditFilter{Limit: 2}},
		{"TenantProviderLimit", keygate.AuditFilter{Tenant: "tn_a", Provider: "openai", Limit: 1}},
		{"Combined", keygate.AuditFilter{Tenant: "tn_a", Action: keygate.ActionKeySet, Since: appended[0].Time, BeforeSeq: 7}},
		{"NoMatch", keygate.AuditFilter{Tenant: "tn_nope"}},
		{"UntilBeforeAll", keygate.AuditFilter{Until: appended[0].Time}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []keygate.AuditEvent
			for _, ev := range slices.Backward(appended) {
				if matches(ev, tc.filter) {
					want = append(want, ev)
				}
			}
			if tc.filter.Limit > 0 && len(want) > tc.filter.Limit {
				want = want[:tc.filter.Limit]
			}
			got, err := e.s.ListAudit(e.ctx, tc.filter)
			if err != nil {
				t.Fatalf("ListAudit: %v", err)
			}
			if diff := cmp.Diff(want, got, diffOpts...); diff != "" {
				t.Errorf("ListAudit(%+v) (-want +got):\n%s", tc.filter, diff)
			}
		})
	}
	if diff := cmp.Diff(appended, MustVerifyChain(t, e.s)); diff != "" {
		t.Errorf("ScanAudit (-appended +scanned):\n%s", diff)
	}
}

// pagingEvents is just over the ListAudit maximum, to see the cap.
const pagingEvents = 1005

func testAuditPaging(t *testing.T, e *env) {
	for i := range pagingEvents {
		MustAppend(t, e.s, keygate.AuditEvent{ActorID: "at_test", Action: keygate.ActionKeyRotated, Version: i + 1})
	}
	seqs := func(evs []keygate.AuditEvent) []int64 {
		var out []int64
		for _, ev := range evs {
			out = append(out, ev.Seq)
		}
		return out
	}
	span := func(from, to int64) []int64 { // from..to, counting up or down
		var out []int64
		for s := from; ; {
			out = append(out, s)
			if s == to {
				return out
			}
			if from < to {
				s++
			} else {
				s--
			}
		}
	}
	tests := []struct {
		name string
		list func() ([]keygate.AuditEvent, error)
		want []int64
	}{
		{"ListDefaultLimit", func() ([]keygate.AuditEvent, error) { return e.s.ListAudit(e.ctx, keygate.AuditFilter{}) },
			span(pagingEvents, pagingEvents-99)},
		{"ListMaxLimit", func() ([]keygate.AuditEvent, error) { return e.s.ListAudit(e.ctx, keygate.AuditFilter{Limit: 5000}) },
			span(pagingEvents, pagingEvents-999)},
		{"ListNegativeLimit", func() ([]keygate.AuditEvent, error) { return e.s.ListAudit(e.ctx, keygate.AuditFilter{Limit: -1}) },
			span(pagingEvents, pagingEvents-99)},
		{"ListLastPage", func() ([]keygate.AuditEvent, error) {
			return e.s.ListAudit(e.ctx, keygate.AuditFilter{BeforeSeq: 4, Limit: 10})
		}, span(3, 1)},
		{"ScanFirst", func() ([]keygate.AuditEvent, error) { return e.s.ScanAudit(e.ctx, 0, 10) }, span(1, 10)},
		{"ScanTail", func() ([]keygate.AuditEvent, error) { return e.s.ScanAudit(e.ctx, pagingEvents-3, 10) },
			span(pagingEvents-2, pagingEvents)},
		{"ScanPastEnd", func() ([]keygate.AuditEvent, error) { return e.s.ScanAudit(e.ctx, pagingEvents, 10) }, nil},
		{"ScanDefaultLimit", func() ([]keygate.AuditEvent, error) { return e.s.ScanAudit(e.ctx, 0, 0) }, span(1, 1000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := tc.list()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, seqs(evs), diffOpts...); diff != "" {
				t.Errorf("seqs (-want +got):\n%s", diff)
			}
		})
	}

	// Paging backwards with BeforeSeq visits every event once.
	var all []int64
	var before int64
	for {
		page, err := e.s.ListAudit(e.ctx, keygate.AuditFilter{BeforeSeq: before, Limit: 100})
		if err != nil {
			t.Fatalf("ListAudit(BeforeSeq %d): %v", before, err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, seqs(page)...)
		before = page[len(page)-1].Seq
	}
	if diff := cmp.Diff(span(pagingEvents, 1), all); diff != "" {
		t.Errorf("paged seqs (-want +got):\n%s", diff)
	}
	MustVerifyChain(t, e.s)
}

func testAuditHead(t *testing.T, e *env) {
	seq, hash, err := e.s.AuditHead(e.ctx)
	if err != nil || seq != 0 || hash != "" {
		t.Fatalf("AuditHead(empty) = %d, %q, %v; want 0, \"\", nil", seq, hash, err)
	}
	first := MustAppend(t, e.s, keygate.AuditEvent{Action: keygate.ActionMasterKeyRotate})
	if first.PrevHash != "" || first.Hash != first.ComputeHash("") {
		t.Errorf("first event PrevHash %q Hash %q; want \"\" and its ComputeHash", first.PrevHash, first.Hash)
	}
	second := MustAppend(t, e.s, keygate.AuditEvent{Action: keygate.ActionMasterKeyRotate})
	if second.PrevHash != first.Hash || second.Hash != second.ComputeHash(first.Hash) {
		t.Errorf("second event PrevHash %q Hash %q; want %q and its ComputeHash", second.PrevHash, second.Hash, first.Hash)
	}
	seq, hash, err = e.s.AuditHead(e.ctx)
	if err != nil || seq != 2 || hash != second.Hash {
		t.Errorf("AuditHead = %d, %q, %v; want 2, %q, nil", seq, hash, err, second.Hash)
	}
	MustVerifyChain(t, e.s)
}

func testAuditTimesRoundTrip(t *testing.T, e *env) {
	tests := []struct {
		name string
		at   time.Time
	}{
		{"SubMicrosecond", start},
		{"OtherZone", time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.FixedZone("UTC-7", -7*3600))},
		{"Epoch", time.Unix(0, 0)},
		{"Before1970", time.Date(1969, 7, 20, 20, 17, 40, 123456000, time.UTC)},
		{"After2038", time.Date(2201, 1, 1, 0, 0, 0, 1000, time.UTC)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Set(tc.at)
			want := tc.at.UTC().Truncate(time.Microsecond)
			ev := MustAppend(t, e.s, keygate.AuditEvent{Action: keygate.ActionMasterKeyRotate})
			tn, err := e.s.CreateTenant(e.ctx, keygate.Tenant{ID: keygate.TenantID(fmt.Sprintf("tn_%d", i)), Name: fmt.Sprintf("t%d", i)},
				event(keygate.ActionTenantCreated, ""))
			if err != nil {
				t.Fatalf("CreateTenant: %v", err)
			}
			evs, err := e.s.ScanAudit(e.ctx, ev.Seq-1, 1)
			if err != nil || len(evs) != 1 {
				t.Fatalf("ScanAudit = %v, %v", evs, err)
			}
			read, err := e.s.GetTenant(e.ctx, string(tn.ID))
			if err != nil {
				t.Fatalf("GetTenant: %v", err)
			}
			for what, got := range map[string]time.Time{
				"AppendAudit": ev.Time, "ScanAudit": evs[0].Time, "CreateTenant": tn.CreatedAt, "GetTenant": read.CreatedAt,
			} {
				if !got.Equal(want) || got.Location() != time.UTC {
					t.Errorf("%s time = %v, want %v in UTC", what, got, want)
				}
			}
		})
	}
	MustVerifyChain(t, e.s)
}

func testAuditFieldsRoundTrip(t *testing.T, e *env) {
	in := keygate.AuditEvent{
		Seq: 99, ID: "ev_custom", Time: time.Unix(1, 0), ActorID: "at_ünï", ActorName: "Zoë 名前 \"quoted\"",
		Tenant: "tn_a", Provider: "openai", Action: "custom.action", KeyID: "pk_x", Version: 7,
		Hint: "...xK7q", Fingerprint: "fp_0123456789abcdef", RequestID: "req_42",
		Detail: `{"reason":"rotation \"due\"","n":1}`, PrevHash: "bogus", Hash: "bogus",
	}
	got := MustAppend(t, e.s, in)
	want := in
	want.Seq, want.Time, want.PrevHash = 1, e.now(), ""
	want.Hash = want.ComputeHash("")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AppendAudit (-want +got):\n%s", diff)
	}
	listed, err := e.s.ListAudit(e.ctx, keygate.AuditFilter{})
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if diff := cmp.Diff([]keygate.AuditEvent{want}, listed); diff != "" {
		t.Errorf("ListAudit (-want +got):\n%s", diff)
	}
	MustVerifyChain(t, e.s)
}

func testAuditDuplicateID(t *testing.T, e *env) {
	MustAppend(t, e.s, keygate.AuditEvent{ID: "ev_dup", Action: keygate.ActionMasterKeyRotate})
	_, err := e.s.AppendAudit(e.ctx, keygate.AuditEvent{ID: "ev_dup", Action: keygate.ActionMasterKeyRotate})
	wantCode(t, "AppendAudit(duplicate id)", err, keygate.CodeConflict)
	if got := mustHead(t, e.s); got != 1 {
		t.Errorf("audit head = %d, want 1", got)
	}
	MustVerifyChain(t, e.s)
}
