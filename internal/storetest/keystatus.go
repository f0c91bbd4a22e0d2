// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

// statusUpdate returns the update that marks version k of a key with status.
func statusUpdate(k keygate.ProviderKey, status keygate.KeyStatus, lastError string) keygate.KeyStatusUpdate {
	return keygate.KeyStatusUpdate{Owner: k.Owner, Provider: k.Provider, KeyID: k.ID, Version: k.Version, Status: status, LastError: lastError}
}

// statusEvents returns the key.status_changed events of the chain.
func statusEvents(tb testing.TB, s keygate.Store) []keygate.AuditEvent {
	tb.Helper()
	var out []keygate.AuditEvent
	for _, ev := range MustVerifyChain(tb, s) {
		if ev.Action == keygate.ActionKeyStatus {
			out = append(out, ev)
		}
	}
	return out
}

func testKeyStatus(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	k := MustPutKey(t, e.s, acme.ID, "openai", "sk-acme-status-KKKK")

	// One key version through a series of checks. Each step says whether
	// the status changed and whether that makes an audit row.
	steps := []struct {
		name        string
		status      keygate.KeyStatus
		lastError   string
		action      string
		wantChanged bool
		wantAudit   bool
	}{
		{"FirstValid", keygate.KeyStatusValid, "", keygate.ActionKeyStatus, true, true},
		{"SameStatusNoAudit", keygate.KeyStatusValid, "", keygate.ActionKeyStatus, false, false},
		{"Invalid", keygate.KeyStatusInvalid, "openai: 401 invalid_api_key", keygate.ActionKeyStatus, true, true},
		{"SameStatusNewError", keygate.KeyStatusInvalid, "openai: 403 forbidden", keygate.ActionKeyStatus, false, false},
		{"ChangedWithoutAction", keygate.KeyStatusValid, "", "", true, false},
		{"BackToUnknown", keygate.KeyStatusUnknown, "", keygate.ActionKeyStatus, true, true},
	}
	want := k
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			before := statusEvents(t, e.s)
			head := mustHead(t, e.s)
			e.clock.Advance(time.Minute)
			ev := event(tc.action, "")
			ev.Detail = `{"check":"live"}`
			changed, err := e.s.SetKeyStatus(e.ctx, statusUpdate(k, tc.status, tc.lastError), ev)
			if err != nil {
				t.Fatalf("SetKeyStatus: %v", err)
			}
			if changed != tc.wantChanged {
				t.Errorf("SetKeyStatus changed = %t, want %t", changed, tc.wantChanged)
			}
			want.Status, want.LastError, want.LastCheckedAt, want.UpdatedAt = tc.status, tc.lastError, e.now(), e.now()
			got, err := e.s.GetKey(e.ctx, acme.ID, "openai")
			if err != nil {
				t.Fatalf("GetKey: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GetKey after SetKeyStatus (-want +got):\n%s", diff)
			}
			after := statusEvents(t, e.s)
			if !tc.wantAudit {
				if got := mustHead(t, e.s); got != head {
					t.Errorf("audit head moved from %d to %d; want no audit row", head, got)
				}
				return
			}
			if len(after) != len(before)+1 {
				t.Fatalf("%d key.status_changed events, want %d (exactly one more)", len(after), len(before)+1)
			}
			gotEv := after[len(after)-1]
			wantEv := keygate.AuditEvent{
				Seq: head + 1, ID: gotEv.ID, Time: e.now(), ActorID: "at_test", ActorName: "test",
				Tenant: acme.ID, Provider: "openai", Action: keygate.ActionKeyStatus,
				KeyID: k.ID, Version: k.Version, Hint: k.Hint, Fingerprint: k.Fingerprint,
				RequestID: "req_1", Detail: `{"check":"live"}`, PrevHash: gotEv.PrevHash, Hash: gotEv.Hash,
			}
			if diff := cmp.Diff(wantEv, gotEv); diff != "" {
				t.Errorf("audit event (-want +got):\n%s", diff)
			}
		})
	}
}

func testKeyStatusStale(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	v1 := MustPutKey(t, e.s, acme.ID, "openai", "sk-acme-stale-1111")
	v2 := MustPutKey(t, e.s, acme.ID, "openai", "sk-acme-stale-2222")
	// A key cleared and set again starts over at version 1 under a new id.
	cleared := MustPutKey(t, e.s, acme.ID, "anthropic", "sk-ant-cleared-3333")
	if err := e.s.DeleteKey(e.ctx, acme.ID, "anthropic", event(keygate.ActionKeyCleared, acme.ID)); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	reset := MustPutKey(t, e.s, acme.ID, "anthropic", "sk-ant-reset-4444")
	if reset.Version != cleared.Version {
		t.Fatalf("reset key version %d, want %d for this test", reset.Version, cleared.Version)
	}
	head := mustHead(t, e.s)
	e.clock.Advance(time.Minute)

	tests := []struct {
		name    string
		update  keygate.KeyStatusUpdate
		current keygate.ProviderKey
	}{
		{"OldVersion", statusUpdate(v1, keygate.KeyStatusInvalid, "openai: 401"), v2},
		{"NewerVersionThanCurrent", statusUpdate(keygate.ProviderKey{ID: v2.ID, Owner: acme.ID, Provider: "openai", Version: 3}, keygate.KeyStatusInvalid, ""), v2},
		{"OldKeyIDSameVersion", statusUpdate(cleared, keygate.KeyStatusInvalid, "anthropic: 401"), reset},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changed, err := e.s.SetKeyStatus(e.ctx, tc.update, event(keygate.ActionKeyStatus, ""))
			if err != nil {
				t.Fatalf("SetKeyStatus: %v", err)
			}
			if changed {
				t.Errorf("SetKeyStatus changed = true for a version that is not current")
			}
			got, err := e.s.GetKey(e.ctx, tc.current.Owner, tc.current.Provider)
			if err != nil {
				t.Fatalf("GetKey: %v", err)
			}
			// Untouched: not even last_checked_at moves.
			if diff := cmp.Diff(tc.current, got); diff != "" {
				t.Errorf("current version after a stale SetKeyStatus (-want +got):\n%s", diff)
			}
			if got := mustHead(t, e.s); got != head {
				t.Errorf("audit head moved from %d to %d on a stale SetKeyStatus", head, got)
			}
		})
	}
}

func testKeyStatusErrors(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	k := MustPutKey(t, e.s, acme.ID, "openai", "sk-acme-errors-5555")
	head := mustHead(t, e.s)
	with := func(f func(*keygate.KeyStatusUpdate)) keygate.KeyStatusUpdate {
		u := statusUpdate(k, keygate.KeyStatusInvalid, "")
		f(&u)
		return u
	}
	tests := []struct {
		name   string
		update keygate.KeyStatusUpdate
		code   string
	}{
		{"ErrNoKeyForProvider", with(func(u *keygate.KeyStatusUpdate) { u.Provider = "anthropic" }), keygate.CodeNotFound},
		{"ErrUnknownOwner", with(func(u *keygate.KeyStatusUpdate) { u.Owner = "tn_nope" }), keygate.CodeNotFound},
		{"ErrNoPlatformKey", with(func(u *keygate.KeyStatusUpdate) { u.Owner = keygate.PlatformScope }), keygate.CodeNotFound},
		{"ErrBadStatus", with(func(u *keygate.KeyStatusUpdate) { u.Status = "broken" }), keygate.CodeInvalidRequest},
		{"ErrNoStatus", with(func(u *keygate.KeyStatusUpdate) { u.Status = "" }), keygate.CodeInvalidRequest},
		{"ErrNoKeyID", with(func(u *keygate.KeyStatusUpdate) { u.KeyID = "" }), keygate.CodeInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changed, err := e.s.SetKeyStatus(e.ctx, tc.update, event(keygate.ActionKeyStatus, ""))
			wantCode(t, "SetKeyStatus", err, tc.code)
			if changed {
				t.Errorf("SetKeyStatus changed = true with an error")
			}
			if got := mustHead(t, e.s); got != head {
				t.Errorf("audit head moved from %d to %d on a failed SetKeyStatus", head, got)
			}
		})
	}
	got, err := e.s.GetKey(e.ctx, acme.ID, "openai")
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	if diff := cmp.Diff(k, got); diff != "" {
		t.Errorf("key after failed SetKeyStatus calls (-want +got):\n%s", diff)
	}
}

func testKeyStatusPlatform(t *testing.T, e *env) {
	k := MustPutKey(t, e.s, keygate.PlatformScope, "openai", "sk-platform-status-6666")
	e.clock.Advance(time.Minute)
	changed, err := e.s.SetKeyStatus(e.ctx, statusUpdate(k, keygate.KeyStatusInvalid, "openai: 401"), event(keygate.ActionKeyStatus, ""))
	if err != nil || !changed {
		t.Fatalf("SetKeyStatus(platform) = %t, %v; want true", changed, err)
	}
	evs := statusEvents(t, e.s)
	if len(evs) != 1 {
		t.Fatalf("%d key.status_changed events, want 1", len(evs))
	}
	if evs[0].Tenant != keygate.PlatformScope || evs[0].KeyID != k.ID {
		t.Errorf("audit event tenant %q key %q, want %q %q", evs[0].Tenant, evs[0].KeyID, keygate.PlatformScope, k.ID)
	}
}

// concurrentChecks is how many goroutines race to record checks of one key.
const concurrentChecks = 40

// testKeyStatusConcurrent races status updates of one key version: every
// update that reports a change has exactly one audit row, and the last
// audited status is the stored one.
func testKeyStatusConcurrent(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	k := MustPutKey(t, e.s, acme.ID, "openai", "sk-acme-race-7777")
	var wg sync.WaitGroup
	changed := make([]bool, concurrentChecks)
	errs := make([]error, concurrentChecks)
	for i := range concurrentChecks {
		status := keygate.KeyStatusValid
		if i%2 == 1 {
			status = keygate.KeyStatusInvalid
		}
		wg.Go(func() {
			// The event says which status it records, so the trail can be
			// checked against the stored row.
			ev := event(keygate.ActionKeyStatus, "")
			ev.Detail = `{"status":"` + string(status) + `"}`
			changed[i], errs[i] = e.s.SetKeyStatus(e.ctx, statusUpdate(k, status, ""), ev)
		})
	}
	wg.Wait()
	var nChanged int
	for i, err := range errs {
		if err != nil {
			t.Fatalf("SetKeyStatus #%d: %v", i, err)
		}
		if changed[i] {
			nChanged++
		}
	}
	evs := statusEvents(t, e.s)
	if len(evs) != nChanged {
		t.Errorf("%d key.status_changed events, want %d (one per reported change)", len(evs), nChanged)
	}
	if nChanged == 0 {
		t.Fatalf("no update reported a change, want at least one")
	}
	got, err := e.s.GetKey(e.ctx, acme.ID, "openai")
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	// The audit trail records the transitions in commit order: each one
	// differs from the one before, and the last is where the key ended.
	prev := `{"status":"unknown"}`
	for i, ev := range evs {
		if ev.KeyID != k.ID || ev.Version != k.Version {
			t.Errorf("audit event for key %s version %d, want %s %d", ev.KeyID, ev.Version, k.ID, k.Version)
		}
		if ev.Detail == prev {
			t.Errorf("audit event %d records %s twice in a row: not a change", i, ev.Detail)
		}
		prev = ev.Detail
	}
	if want := `{"status":"` + string(got.Status) + `"}`; prev != want {
		t.Errorf("last audited status %s, stored %s", prev, want)
	}
}
