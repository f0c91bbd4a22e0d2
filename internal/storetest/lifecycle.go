// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

// MustListKeyVersions returns the versions of owner's key for provider and
// fails tb on error.
func MustListKeyVersions(tb testing.TB, s keygate.Store, owner keygate.TenantID, provider string) []keygate.KeyVersion {
	tb.Helper()
	vs, err := s.ListKeyVersions(context.Background(), owner, provider)
	if err != nil {
		tb.Fatalf("ListKeyVersions(%s, %s): %v", owner, provider, err)
	}
	return vs
}

// MustRollbackKey rolls owner's key for provider back (any superseded
// version may be restored) and fails tb on error.
func MustRollbackKey(tb testing.TB, s keygate.Store, owner keygate.TenantID, provider string) keygate.ProviderKey {
	tb.Helper()
	k, err := s.RollbackKey(context.Background(), owner, provider, time.Time{}, event("", owner))
	if err != nil {
		tb.Fatalf("RollbackKey(%s, %s): %v", owner, provider, err)
	}
	return k
}

// mustDestroySuperseded destroys the versions superseded before olderThan,
// fails tb unless it destroyed want of them, and returns the destruction
// time the store recorded.
func mustDestroySuperseded(tb testing.TB, e *env, olderThan time.Time, want int) time.Time {
	tb.Helper()
	n, err := e.s.DestroySuperseded(e.ctx, olderThan)
	if err != nil {
		tb.Fatalf("DestroySuperseded(%v): %v", olderThan, err)
	}
	if n != want {
		tb.Fatalf("DestroySuperseded(%v) destroyed %d versions, want %d", olderThan, n, want)
	}
	return e.now()
}

// version returns what ListKeyVersions reports for k.
func version(k keygate.ProviderKey, current bool, superseded, destroyed time.Time) keygate.KeyVersion {
	return keygate.KeyVersion{
		KeyID: k.ID, Version: k.Version, Hint: k.Hint, Fingerprint: k.Fingerprint, CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt, Current: current, SupersededAt: superseded, DestroyedAt: destroyed,
	}
}

// restored is k as RollbackKey returns it at time now: status unknown, never
// checked, updated now.
func restored(k keygate.ProviderKey, now time.Time) keygate.ProviderKey {
	k.Status, k.LastCheckedAt, k.LastError, k.UpdatedAt = keygate.KeyStatusUnknown, time.Time{}, "", now
	return k
}

// lifecycleEvent is the part of a key audit event the lifecycle tests check.
type lifecycleEvent struct {
	Action            string
	Tenant            keygate.TenantID
	Provider          string
	KeyID             string
	Version           int
	Hint, Fingerprint string
	Detail            string
}

func lifecycleEvents(evs []keygate.AuditEvent) []lifecycleEvent {
	var out []lifecycleEvent
	for _, ev := range evs {
		if ev.Action == keygate.ActionTenantCreated {
			continue
		}
		out = append(out, lifecycleEvent{ev.Action, ev.Tenant, ev.Provider, ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint, ev.Detail})
	}
	return out
}

func testKeyRollback(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	e.clock.Advance(time.Second)
	t1 := e.now()
	v1 := MustPutKey(t, e.s, acme.ID, "openai", "sk-rollback-one-AAAA")
	e.clock.Advance(time.Second)
	t2 := e.now()
	v2 := MustPutKey(t, e.s, acme.ID, "openai", "sk-rollback-two-BBBB")
	e.clock.Advance(time.Second)
	t3 := e.now()
	p := keyParams(acme.ID, "openai", "sk-rollback-three-CCCC")
	p.Status = keygate.KeyStatusValid
	v3, err := e.s.PutKey(e.ctx, p, event("", acme.ID))
	if err != nil {
		t.Fatalf("PutKey(v3): %v", err)
	}
	if v1.CreatedAt != t1 || v2.CreatedAt != t2 || v3.CreatedAt != t3 {
		t.Fatalf("versions created at %v, %v, %v; want %v, %v, %v", v1.CreatedAt, v2.CreatedAt, v3.CreatedAt, t1, t2, t3)
	}
	want := []keygate.KeyVersion{version(v3, true, time.Time{}, time.Time{}), version(v2, false, t3, time.Time{}), version(v1, false, t2, time.Time{})}
	if diff := cmp.Diff(want, MustListKeyVersions(t, e.s, acme.ID, "openai")); diff != "" {
		t.Fatalf("ListKeyVersions after three puts (-want +got):\n%s", diff)
	}

	// Roll back to v2: v2's sealed material is what GetKey returns now.
	e.clock.Advance(time.Second)
	t4 := e.now()
	ev := event("", acme.ID)
	ev.Detail = `{"reason":"v3 rejected"}`
	got, err := e.s.RollbackKey(e.ctx, acme.ID, "openai", t1, ev)
	if err != nil {
		t.Fatalf("RollbackKey(v3 to v2): %v", err)
	}
	if diff := cmp.Diff(restored(v2, t4), got); diff != "" {
		t.Errorf("RollbackKey(v3 to v2) (-want +got):\n%s", diff)
	}
	cur, err := e.s.GetKey(e.ctx, acme.ID, "openai")
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	if diff := cmp.Diff(got, cur); diff != "" {
		t.Errorf("GetKey after rollback (-want +got):\n%s", diff)
	}
	want = []keygate.KeyVersion{version(v3, false, t4, time.Time{}), version(v2, true, time.Time{}, time.Time{}), version(v1, false, t2, time.Time{})}
	if diff := cmp.Diff(want, MustListKeyVersions(t, e.s, acme.ID, "openai")); diff != "" {
		t.Errorf("ListKeyVersions after rollback to v2 (-want +got):\n%s", diff)
	}

	// Again: v1.
	e.clock.Advance(time.Second)
	t5 := e.now()
	if diff := cmp.Diff(restored(v1, t5), MustRollbackKey(t, e.s, acme.ID, "openai")); diff != "" {
		t.Errorf("RollbackKey(v2 to v1) (-want +got):\n%s", diff)
	}

	// Again: nothing older than v1.
	e.clock.Advance(time.Second)
	head := mustHead(t, e.s)
	_, err = e.s.RollbackKey(e.ctx, acme.ID, "openai", time.Time{}, event("", acme.ID))
	wantCode(t, "RollbackKey(at v1)", err, keygate.CodeConflict)
	if got := mustHead(t, e.s); got != head {
		t.Errorf("audit head moved from %d to %d on a failed rollback", head, got)
	}
	if cur, err := e.s.GetKey(e.ctx, acme.ID, "openai"); err != nil || cur.Version != 1 {
		t.Errorf("GetKey after failed rollback = version %d, %v; want 1", cur.Version, err)
	}

	// A put after rollbacks takes the next number above the newest.
	e.clock.Advance(time.Second)
	t7 := e.now()
	v4 := MustPutKey(t, e.s, acme.ID, "openai", "sk-rollback-four-DDDD")
	if v4.Version != 4 {
		t.Fatalf("PutKey after rollbacks = version %d, want 4", v4.Version)
	}
	if diff := cmp.Diff(FakeSealed(v4.ID, 4), v4.Sealed); diff != "" {
		t.Errorf("PutKey(v4) sealed (-want +got):\n%s", diff)
	}
	want = []keygate.KeyVersion{
		version(v4, true, time.Time{}, time.Time{}),
		version(v3, false, t4, time.Time{}),
		version(v2, false, t5, time.Time{}),
		version(v1, false, t7, time.Time{}),
	}
	if diff := cmp.Diff(want, MustListKeyVersions(t, e.s, acme.ID, "openai")); diff != "" {
		t.Errorf("ListKeyVersions after put v4 (-want +got):\n%s", diff)
	}
	// The newest older version is v3, the one rolled away from first.
	e.clock.Advance(time.Second)
	if got := MustRollbackKey(t, e.s, acme.ID, "openai"); got.Version != 3 {
		t.Errorf("RollbackKey(v4) restored version %d, want 3", got.Version)
	}

	evs := lifecycleEvents(MustVerifyChain(t, e.s))
	rolled := func(k keygate.ProviderKey, detail string) lifecycleEvent {
		return lifecycleEvent{keygate.ActionKeyRolledBack, acme.ID, "openai", k.ID, k.Version, k.Hint, k.Fingerprint, detail}
	}
	put := func(action string, k keygate.ProviderKey) lifecycleEvent {
		// PutKey leaves Tenant and Provider to the caller; event() sets
		// only the tenant.
		return lifecycleEvent{action, acme.ID, "", k.ID, k.Version, k.Hint, k.Fingerprint, ""}
	}
	wantEvs := []lifecycleEvent{
		put(keygate.ActionKeySet, v1),
		put(keygate.ActionKeyRotated, v2),
		put(keygate.ActionKeyRotated, v3),
		rolled(v2, `{"reason":"v3 rejected"}`),
		rolled(v1, ""),
		put(keygate.ActionKeyRotated, v4),
		rolled(v3, ""),
	}
	if diff := cmp.Diff(wantEvs, evs); diff != "" {
		t.Errorf("audit events (-want +got):\n%s", diff)
	}
}

// FakeSealed returns what FakeSeal seals for keyID and version.
func FakeSealed(keyID string, version int) keygate.Sealed {
	s, _ := FakeSeal(keyID, version)
	return s
}

func testKeyRollbackWindow(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	v1 := MustPutKey(t, e.s, acme.ID, "openai", "sk-window-one-AAAA")
	e.clock.Advance(time.Hour)
	t2 := e.now()
	v2 := MustPutKey(t, e.s, acme.ID, "openai", "sk-window-two-BBBB")
	e.clock.Advance(time.Hour)
	head := mustHead(t, e.s)
	before := MustListKeyVersions(t, e.s, acme.ID, "openai")

	// v1 was superseded at t2: a window that opens after t2 excludes it.
	tests := []struct {
		name      string
		notBefore time.Time
	}{
		{"NanosecondAfter", t2.Add(time.Nanosecond)},
		{"MicrosecondAfter", t2.Add(time.Microsecond)},
		{"HourAfter", t2.Add(time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.RollbackKey(e.ctx, acme.ID, "openai", tc.notBefore, event("", acme.ID))
			wantCode(t, "RollbackKey(superseded before the window)", err, keygate.CodeConflict)
			if got := mustHead(t, e.s); got != head {
				t.Errorf("audit head moved from %d to %d", head, got)
			}
			if diff := cmp.Diff(before, MustListKeyVersions(t, e.s, acme.ID, "openai")); diff != "" {
				t.Errorf("ListKeyVersions changed (-before +after):\n%s", diff)
			}
			if cur, err := e.s.GetKey(e.ctx, acme.ID, "openai"); err != nil || !cmp.Equal(v2, cur) {
				t.Errorf("GetKey = %+v, %v; want v2 unchanged", cur, err)
			}
		})
	}
	// The window is inclusive, at microsecond precision: a bound a
	// fraction of a microsecond before t2 includes v1.
	got, err := e.s.RollbackKey(e.ctx, acme.ID, "openai", t2.Add(-time.Nanosecond), event("", acme.ID))
	if err != nil {
		t.Fatalf("RollbackKey(window opening at t2): %v", err)
	}
	if got.Version != 1 || !cmp.Equal(v1.Sealed, got.Sealed) {
		t.Errorf("RollbackKey restored version %d sealed %q, want version 1 sealed %q", got.Version, got.Sealed.Ciphertext, v1.Sealed.Ciphertext)
	}
	MustVerifyChain(t, e.s)
}

func testKeyRollbackErrors(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	MustPutKey(t, e.s, acme.ID, "openai", "sk-errors-openai-AAAA")
	first := MustPutKey(t, e.s, acme.ID, "anthropic", "sk-errors-ant-one-BBBB")
	MustPutKey(t, e.s, acme.ID, "anthropic", "sk-errors-ant-two-CCCC")
	if err := e.s.DeleteKey(e.ctx, acme.ID, "anthropic", event(keygate.ActionKeyCleared, acme.ID)); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	again := MustPutKey(t, e.s, acme.ID, "anthropic", "sk-errors-ant-three-DDDD")
	if again.ID == first.ID {
		t.Fatalf("PutKey after DeleteKey kept key id %s", again.ID)
	}
	head := mustHead(t, e.s)
	tests := []struct {
		name     string
		owner    keygate.TenantID
		provider string
		code     string
	}{
		{"OtherProvider", acme.ID, "mistral", keygate.CodeNotFound},
		{"UnknownTenant", "tn_nope", "openai", keygate.CodeNotFound},
		{"Platform", keygate.PlatformScope, "openai", keygate.CodeNotFound},
		{"OneVersion", acme.ID, "openai", keygate.CodeConflict},
		// Deleting a key erases its versions: the key set again has
		// nothing to roll back to.
		{"SetAgainAfterDelete", acme.ID, "anthropic", keygate.CodeConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.RollbackKey(e.ctx, tc.owner, tc.provider, time.Time{}, event("", tc.owner))
			wantCode(t, "RollbackKey", err, tc.code)
			if tc.code == keygate.CodeNotFound {
				_, err := e.s.ListKeyVersions(e.ctx, tc.owner, tc.provider)
				wantCode(t, "ListKeyVersions", err, keygate.CodeNotFound)
			}
		})
	}
	if got := mustHead(t, e.s); got != head {
		t.Errorf("audit head moved from %d to %d on failed rollbacks", head, got)
	}
	if vs := MustListKeyVersions(t, e.s, acme.ID, "anthropic"); len(vs) != 1 || vs[0].KeyID != again.ID {
		t.Errorf("ListKeyVersions after delete and set = %+v, want only version 1 of %s", vs, again.ID)
	}
}

func testKeyDestroySuperseded(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	e.clock.Advance(time.Second)
	a1 := MustPutKey(t, e.s, acme.ID, "openai", "sk-destroy-a1-AAAA")
	ant := MustPutKey(t, e.s, acme.ID, "anthropic", "sk-destroy-ant-BBBB")
	e.clock.Advance(time.Second)
	t2 := e.now()
	a2 := MustPutKey(t, e.s, acme.ID, "openai", "sk-destroy-a2-CCCC")
	p1 := MustPutKey(t, e.s, keygate.PlatformScope, "openai", "sk-destroy-p1-DDDD")
	m1 := MustPutKey(t, e.s, acme.ID, "mistral", "sk-destroy-m1-EEEE")
	e.clock.Advance(time.Second)
	t3 := e.now()
	a3 := MustPutKey(t, e.s, acme.ID, "openai", "sk-destroy-a3-FFFF")
	p2 := MustPutKey(t, e.s, keygate.PlatformScope, "openai", "sk-destroy-p2-GGGG")
	m2 := MustPutKey(t, e.s, acme.ID, "mistral", "sk-destroy-m2-HHHH")
	// mistral rolls back to m1: m1 is current again although it was
	// superseded once, and m2 is superseded now.
	e.clock.Advance(time.Second)
	t4 := e.now()
	MustRollbackKey(t, e.s, acme.ID, "mistral")
	e.clock.Advance(time.Hour)
	head := mustHead(t, e.s)

	// Nothing was superseded before t2.
	mustDestroySuperseded(t, e, time.Time{}, 0)
	mustDestroySuperseded(t, e, t2, 0)
	// a1 was superseded at t2, p1 and a2 at t3: only a1 is older than
	// t3, and a bound a fraction of a microsecond after t2 is enough.
	d1 := mustDestroySuperseded(t, e, t2.Add(time.Nanosecond), 1)
	mustDestroySuperseded(t, e, t3, 0) // a1 is destroyed once
	want := []keygate.KeyVersion{version(a3, true, time.Time{}, time.Time{}), version(a2, false, t3, time.Time{}), version(a1, false, t2, d1)}
	if diff := cmp.Diff(want, MustListKeyVersions(t, e.s, acme.ID, "openai")); diff != "" {
		t.Errorf("ListKeyVersions after destroying a1 (-want +got):\n%s", diff)
	}
	// The destroyed version has no data key left to re-wrap.
	mustWrapped := func(keys ...keygate.ProviderKey) {
		t.Helper()
		refs, err := e.s.ListWrapped(e.ctx, "kek-other", 1000)
		if err != nil {
			t.Fatalf("ListWrapped: %v", err)
		}
		got := map[string]bool{}
		for _, r := range refs {
			if r.Kind == "key" {
				got[fmt.Sprintf("%s/%d", r.KeyID, r.Version)] = true
			}
		}
		wantSet := map[string]bool{}
		for _, k := range keys {
			wantSet[fmt.Sprintf("%s/%d", k.ID, k.Version)] = true
		}
		if diff := cmp.Diff(wantSet, got); diff != "" {
			t.Errorf("ListWrapped key versions (-want +got):\n%s", diff)
		}
	}
	mustWrapped(a2, a3, ant, p1, p2, m1, m2)
	changed, err := e.s.Rewrap(e.ctx, keygate.WrappedRef{Kind: "key", KeyID: a1.ID, Version: 1,
		WrappedDEK: a1.Sealed.WrappedDEK, KEKID: a1.Sealed.KEKID}, []byte("dek-new"), "kek2")
	if err != nil || changed {
		t.Errorf("Rewrap(destroyed version) = %v, %v; want false, nil", changed, err)
	}

	// Everything superseded by now goes, current versions stay: m1 among
	// them, although it was superseded once before it was restored.
	e.clock.Advance(time.Second)
	d2 := mustDestroySuperseded(t, e, e.now().Add(time.Hour), 3)
	mustWrapped(a3, ant, p2, m1)
	want = []keygate.KeyVersion{version(a3, true, time.Time{}, time.Time{}), version(a2, false, t3, d2), version(a1, false, t2, d1)}
	if diff := cmp.Diff(want, MustListKeyVersions(t, e.s, acme.ID, "openai")); diff != "" {
		t.Errorf("ListKeyVersions(openai) (-want +got):\n%s", diff)
	}
	want = []keygate.KeyVersion{version(m2, false, t4, d2), version(m1, true, time.Time{}, time.Time{})}
	if diff := cmp.Diff(want, MustListKeyVersions(t, e.s, acme.ID, "mistral")); diff != "" {
		t.Errorf("ListKeyVersions(mistral) (-want +got):\n%s", diff)
	}
	want = []keygate.KeyVersion{version(p2, true, time.Time{}, time.Time{}), version(p1, false, t3, d2)}
	if diff := cmp.Diff(want, MustListKeyVersions(t, e.s, keygate.PlatformScope, "openai")); diff != "" {
		t.Errorf("ListKeyVersions(platform) (-want +got):\n%s", diff)
	}
	mustDestroySuperseded(t, e, e.now().Add(1000*time.Hour), 0)

	// Current versions are whole; destroyed ones cannot come back.
	for _, k := range []keygate.ProviderKey{a3, ant, p2, restored(m1, t4)} {
		got, err := e.s.GetKey(e.ctx, k.Owner, k.Provider)
		if err != nil {
			t.Fatalf("GetKey(%s, %s): %v", k.Owner, k.Provider, err)
		}
		if diff := cmp.Diff(k, got); diff != "" {
			t.Errorf("GetKey(%s, %s) after destruction (-want +got):\n%s", k.Owner, k.Provider, diff)
		}
		_, err = e.s.RollbackKey(e.ctx, k.Owner, k.Provider, time.Time{}, event("", k.Owner))
		wantCode(t, fmt.Sprintf("RollbackKey(%s, %s) to a destroyed version", k.Owner, k.Provider), err, keygate.CodeConflict)
	}
	// Destruction is not audited by the store (its caller may), and
	// failed rollbacks write nothing.
	if got := mustHead(t, e.s); got != head {
		t.Errorf("audit head moved from %d to %d", head, got)
	}
	MustVerifyChain(t, e.s)

	// A new version after destruction is numbered above the destroyed ones.
	if v := MustPutKey(t, e.s, acme.ID, "mistral", "sk-destroy-m3-IIII"); v.Version != 3 {
		t.Errorf("PutKey after destruction = version %d, want 3", v.Version)
	}
	if got := MustRollbackKey(t, e.s, acme.ID, "mistral"); got.Version != 1 || !cmp.Equal(m1.Sealed, got.Sealed) {
		t.Errorf("RollbackKey past destroyed m2 = version %d, want 1 with its sealed material", got.Version)
	}
}

func testListAllKeys(t *testing.T, e *env) {
	all, err := e.s.ListAllKeys(e.ctx)
	if err != nil || len(all) != 0 {
		t.Fatalf("ListAllKeys(empty store) = %v, %v; want nothing", all, err)
	}
	acme := MustCreateTenant(t, e.s, "acme")
	beta := MustCreateTenant(t, e.s, "beta")
	b1 := MustPutKey(t, e.s, beta.ID, "openai", "sk-all-beta-AAAA")
	e.clock.Advance(time.Second)
	MustPutKey(t, e.s, acme.ID, "openai", "sk-all-acme-one-BBBB")
	a2 := MustPutKey(t, e.s, acme.ID, "openai", "sk-all-acme-two-CCCC")
	ant := MustPutKey(t, e.s, acme.ID, "anthropic", "sk-all-acme-ant-DDDD")
	p1 := MustPutKey(t, e.s, keygate.PlatformScope, "openai", "sk-all-platform-EEEE")
	bare := func(ks ...keygate.ProviderKey) []keygate.ProviderKey {
		var out []keygate.ProviderKey
		for _, k := range ks {
			k.Sealed = keygate.Sealed{}
			out = append(out, k)
		}
		return out
	}
	check := func(name string, want []keygate.ProviderKey) {
		t.Helper()
		got, err := e.s.ListAllKeys(e.ctx)
		if err != nil {
			t.Fatalf("ListAllKeys: %v", err)
		}
		if diff := cmp.Diff(want, got, diffOpts...); diff != "" {
			t.Errorf("ListAllKeys %s (-want +got):\n%s", name, diff)
		}
	}
	// Ordered by owner ("platform" < "tn_acme" < "tn_beta"), then provider.
	check("after puts", bare(p1, ant, a2, b1))

	e.clock.Advance(time.Second)
	a1 := MustRollbackKey(t, e.s, acme.ID, "openai")
	check("after rollback", bare(p1, ant, a1, b1))

	if err := e.s.DeleteTenant(e.ctx, beta.ID, event(keygate.ActionTenantDeleted, beta.ID)); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	check("after tenant delete", bare(p1, ant, a1))
}

// concurrentLifecycle is how many goroutines race to put, roll back and
// destroy versions of one key.
const concurrentLifecycle = 30

func testKeyConcurrentRollback(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	const initial = 10
	for i := range initial {
		MustPutKey(t, e.s, acme.ID, "openai", fmt.Sprintf("sk-race-initial-%04d", i))
	}
	// Destroy everything superseded before the clock moves again: every
	// version superseded during the race is fair game.
	olderThan := e.now().Add(time.Hour)
	type result struct {
		op  string
		k   keygate.ProviderKey
		n   int
		err error
	}
	results := make([]result, concurrentLifecycle)
	var wg sync.WaitGroup
	for i := range concurrentLifecycle {
		wg.Go(func() {
			r := &results[i]
			switch i % 3 {
			case 0:
				r.op = "put"
				r.k, r.err = e.s.PutKey(e.ctx, keyParams(acme.ID, "openai", fmt.Sprintf("sk-race-put-%04d", i)), event("", acme.ID))
			case 1:
				r.op = "rollback"
				r.k, r.err = e.s.RollbackKey(e.ctx, acme.ID, "openai", time.Time{}, event("", acme.ID))
			default:
				r.op = "destroy"
				r.n, r.err = e.s.DestroySuperseded(e.ctx, olderThan)
			}
		})
	}
	wg.Wait()

	putVersions := map[int]bool{}
	rollbacks := 0
	for i, r := range results {
		switch {
		case r.op == "rollback" && keygate.IsCode(r.err, keygate.CodeConflict):
			// Everything older was destroyed first: allowed.
		case r.err != nil:
			t.Fatalf("%s #%d: %v", r.op, i, r.err)
		case r.op == "put":
			if r.k.Version <= initial || putVersions[r.k.Version] {
				t.Errorf("put #%d got version %d: not new", i, r.k.Version)
			}
			putVersions[r.k.Version] = true
		case r.op == "rollback":
			rollbacks++
			if !cmp.Equal(FakeSealed(r.k.ID, r.k.Version), r.k.Sealed) {
				t.Errorf("rollback #%d restored version %d without its sealed material: %q", i, r.k.Version, r.k.Sealed.Ciphertext)
			}
		}
	}

	// Replaying the audit trail gives the current version: audit order is
	// commit order.
	evs := MustVerifyChain(t, e.s)
	replayed, audited := 0, 0
	for _, ev := range evs {
		switch ev.Action {
		case keygate.ActionKeySet, keygate.ActionKeyRotated:
			replayed = ev.Version
		case keygate.ActionKeyRolledBack:
			replayed = ev.Version
			audited++
		}
	}
	if audited != rollbacks {
		t.Errorf("%d rollbacks audited, %d succeeded", audited, rollbacks)
	}
	cur, err := e.s.GetKey(e.ctx, acme.ID, "openai")
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	if cur.Version != replayed {
		t.Errorf("current version %d, audit trail says %d", cur.Version, replayed)
	}
	if !cmp.Equal(FakeSealed(cur.ID, cur.Version), cur.Sealed) {
		t.Errorf("current version %d has lost its sealed material: %q", cur.Version, cur.Sealed.Ciphertext)
	}
	vs := MustListKeyVersions(t, e.s, acme.ID, "openai")
	if len(vs) != initial+len(putVersions) {
		t.Errorf("%d versions, want %d", len(vs), initial+len(putVersions))
	}
	for i, v := range vs {
		if want := len(vs) - i; v.Version != want {
			t.Errorf("versions[%d] = %d, want %d", i, v.Version, want)
		}
		if v.Current != (v.Version == cur.Version) {
			t.Errorf("version %d: Current = %t, current version is %d", v.Version, v.Current, cur.Version)
		}
		if v.Current && (!v.DestroyedAt.IsZero() || !v.SupersededAt.IsZero()) {
			t.Errorf("current version %d superseded at %v, destroyed at %v", v.Version, v.SupersededAt, v.DestroyedAt)
		}
		if !v.Current && v.SupersededAt.IsZero() {
			t.Errorf("version %d is not current and was never superseded", v.Version)
		}
	}
}
