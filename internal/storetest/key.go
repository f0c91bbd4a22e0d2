// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

func testKeyLifecycle(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	e.clock.Advance(time.Second)
	t1 := e.now()

	// Seal must see the key id and version the row gets.
	var sealedFor []string
	p := keyParams(acme.ID, "openai", "sk-proj-first-AAAA")
	p.Seal = func(keyID string, version int) (keygate.Sealed, error) {
		sealedFor = append(sealedFor, fmt.Sprintf("%s/%d", keyID, version))
		return FakeSeal(keyID, version)
	}
	v1, err := e.s.PutKey(e.ctx, p, event("", acme.ID))
	if err != nil {
		t.Fatalf("PutKey(v1): %v", err)
	}
	if !strings.HasPrefix(v1.ID, "pk_") {
		t.Errorf("key id %q does not start with pk_", v1.ID)
	}
	sealed1, _ := FakeSeal(v1.ID, 1)
	want1 := keygate.ProviderKey{
		ID: v1.ID, Owner: acme.ID, Provider: "openai", Version: 1, Hint: "...AAAA", Fingerprint: "fp_sk-proj-first-AAAA",
		Status: keygate.KeyStatusUnknown, CreatedBy: "at_test", CreatedAt: t1, UpdatedAt: t1, Sealed: sealed1,
	}
	if diff := cmp.Diff(want1, v1); diff != "" {
		t.Errorf("PutKey(v1) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{v1.ID + "/1"}, sealedFor); diff != "" {
		t.Errorf("Seal calls (-want +got):\n%s", diff)
	}

	e.clock.Advance(time.Second)
	t2 := e.now()
	p = keyParams(acme.ID, "openai", "sk-proj-second-BBBB")
	p.Status = keygate.KeyStatusValid
	v2, err := e.s.PutKey(e.ctx, p, event("", acme.ID))
	if err != nil {
		t.Fatalf("PutKey(v2): %v", err)
	}
	sealed2, _ := FakeSeal(v1.ID, 2)
	want2 := keygate.ProviderKey{
		ID: v1.ID, Owner: acme.ID, Provider: "openai", Version: 2, Hint: "...BBBB", Fingerprint: "fp_sk-proj-second-BBBB",
		Status: keygate.KeyStatusValid, CreatedBy: "at_test", CreatedAt: t2, UpdatedAt: t2, Sealed: sealed2,
	}
	if diff := cmp.Diff(want2, v2); diff != "" {
		t.Errorf("PutKey(v2) (-want +got):\n%s", diff)
	}
	got, err := e.s.GetKey(e.ctx, acme.ID, "openai")
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	if diff := cmp.Diff(want2, got); diff != "" {
		t.Errorf("GetKey (-want +got):\n%s", diff)
	}

	ant := MustPutKey(t, e.s, acme.ID, "anthropic", "sk-ant-api03-CCCC")
	list, err := e.s.ListKeys(e.ctx, acme.ID)
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	if diff := cmp.Diff([]keygate.ProviderKey{ant, want2}, list); diff != "" {
		t.Errorf("ListKeys (-want +got):\n%s", diff)
	}

	e.clock.Advance(time.Second)
	if err := e.s.DeleteKey(e.ctx, acme.ID, "openai", event(keygate.ActionKeyCleared, acme.ID)); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	_, err = e.s.GetKey(e.ctx, acme.ID, "openai")
	wantCode(t, "GetKey(deleted)", err, keygate.CodeNotFound)
	if msg := keygate.ErrorMessage(err); !strings.Contains(msg, "openai") || !strings.Contains(msg, "tn_acme") {
		t.Errorf("GetKey(deleted) message %q does not name the provider and tenant", msg)
	}
	refs, err := e.s.ListWrapped(e.ctx, "kek-other", 1000)
	if err != nil {
		t.Fatalf("ListWrapped: %v", err)
	}
	for _, r := range refs {
		if r.KeyID == v1.ID {
			t.Errorf("ListWrapped still lists %+v of the deleted key", r)
		}
	}

	// Set again: a new key id, from version 1.
	again := MustPutKey(t, e.s, acme.ID, "openai", "sk-proj-third-DDDD")
	if again.ID == v1.ID || again.Version != 1 {
		t.Errorf("PutKey after delete = id %s version %d, want a new id and version 1", again.ID, again.Version)
	}

	evs := MustVerifyChain(t, e.s)
	type keyEvent struct {
		Action, KeyID     string
		Version           int
		Hint, Fingerprint string
	}
	var gotEvs []keyEvent
	for _, ev := range evs[1:] {
		gotEvs = append(gotEvs, keyEvent{ev.Action, ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint})
	}
	wantEvs := []keyEvent{
		{keygate.ActionKeySet, v1.ID, 1, "...AAAA", "fp_sk-proj-first-AAAA"},
		{keygate.ActionKeyRotated, v1.ID, 2, "...BBBB", "fp_sk-proj-second-BBBB"},
		{keygate.ActionKeySet, ant.ID, 1, "...CCCC", "fp_sk-ant-api03-CCCC"},
		{keygate.ActionKeyCleared, v1.ID, 2, "...BBBB", "fp_sk-proj-second-BBBB"},
		{keygate.ActionKeySet, again.ID, 1, "...DDDD", "fp_sk-proj-third-DDDD"},
	}
	if diff := cmp.Diff(wantEvs, gotEvs); diff != "" {
		t.Errorf("key audit events (-want +got):\n%s", diff)
	}
}

func testKeyPlatform(t *testing.T, e *env) {
	k := MustPutKey(t, e.s, keygate.PlatformScope, "openai", "sk-platform-EEEE")
	got, err := e.s.GetKey(e.ctx, keygate.PlatformScope, "openai")
	if err != nil {
		t.Fatalf("GetKey(platform): %v", err)
	}
	if diff := cmp.Diff(k, got); diff != "" {
		t.Errorf("GetKey(platform) (-want +got):\n%s", diff)
	}
	list, err := e.s.ListKeys(e.ctx, keygate.PlatformScope)
	if err != nil {
		t.Fatalf("ListKeys(platform): %v", err)
	}
	if diff := cmp.Diff([]keygate.ProviderKey{k}, list); diff != "" {
		t.Errorf("ListKeys(platform) (-want +got):\n%s", diff)
	}
	// A tenant's keys and the platform's are separate.
	acme := MustCreateTenant(t, e.s, "acme")
	_, err = e.s.GetKey(e.ctx, acme.ID, "openai")
	wantCode(t, "GetKey(tenant without key)", err, keygate.CodeNotFound)
}

func testKeyNotFound(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	MustPutKey(t, e.s, acme.ID, "openai", "sk-acme-openai-FFFF")
	head := mustHead(t, e.s)
	tests := []struct {
		name     string
		owner    keygate.TenantID
		provider string
	}{
		{"OtherProvider", acme.ID, "anthropic"},
		{"UnknownTenant", "tn_nope", "openai"},
		{"Platform", keygate.PlatformScope, "openai"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.GetKey(e.ctx, tc.owner, tc.provider)
			wantCode(t, "GetKey", err, keygate.CodeNotFound)
			err = e.s.DeleteKey(e.ctx, tc.owner, tc.provider, event(keygate.ActionKeyCleared, tc.owner))
			wantCode(t, "DeleteKey", err, keygate.CodeNotFound)
			list, err := e.s.ListKeys(e.ctx, tc.owner)
			if err != nil {
				t.Fatalf("ListKeys: %v", err)
			}
			for _, k := range list {
				if k.Provider == tc.provider {
					t.Errorf("ListKeys lists %+v", k)
				}
			}
		})
	}
	if got := mustHead(t, e.s); got != head {
		t.Errorf("audit head moved from %d to %d on failed deletes", head, got)
	}
}

func testKeyPutUnknownTenant(t *testing.T, e *env) {
	_, err := e.s.PutKey(e.ctx, keyParams("tn_nope", "openai", "sk-nope-GGGG"), event("", "tn_nope"))
	wantCode(t, "PutKey(unknown tenant)", err, keygate.CodeNotFound)
	_, err = e.s.PutKey(e.ctx, keyParams("", "openai", "sk-nope-GGGG"), event("", ""))
	wantCode(t, "PutKey(no owner)", err, keygate.CodeInvalidRequest)
	if got := mustHead(t, e.s); got != 0 {
		t.Errorf("audit head = %d after failed puts, want 0", got)
	}
	refs, err := e.s.ListWrapped(e.ctx, "kek-other", 1000)
	if err != nil || len(refs) != 0 {
		t.Errorf("ListWrapped = %v, %v; want nothing", refs, err)
	}
}

func testKeySealFails(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	v1 := MustPutKey(t, e.s, acme.ID, "openai", "sk-acme-openai-HHHH")
	head := mustHead(t, e.s)
	tests := []struct {
		name     string
		provider string
		err      error
		check    func(error) bool
	}{
		{"RotateOpaqueError", "openai", errSeal, func(err error) bool { return errors.Is(err, errSeal) }},
		{"RotateKeygateError", "openai", keygate.Errorf(keygate.CodeUnavailable, "Master key unavailable."),
			func(err error) bool { return keygate.IsCode(err, keygate.CodeUnavailable) }},
		{"FirstVersion", "anthropic", errSeal, func(err error) bool { return errors.Is(err, errSeal) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := keyParams(acme.ID, tc.provider, "sk-will-not-be-stored")
			p.Seal = func(string, int) (keygate.Sealed, error) { return keygate.Sealed{}, tc.err }
			_, err := e.s.PutKey(e.ctx, p, event("", acme.ID))
			if !tc.check(err) {
				t.Fatalf("PutKey with failing Seal: err = %v, want %v", err, tc.err)
			}
			if got := mustHead(t, e.s); got != head {
				t.Errorf("audit head moved from %d to %d", head, got)
			}
		})
	}
	got, err := e.s.GetKey(e.ctx, acme.ID, "openai")
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	if diff := cmp.Diff(v1, got); diff != "" {
		t.Errorf("GetKey after failed rotations (-want +got):\n%s", diff)
	}
	_, err = e.s.GetKey(e.ctx, acme.ID, "anthropic")
	wantCode(t, "GetKey(never sealed)", err, keygate.CodeNotFound)
	list, err := e.s.ListKeys(e.ctx, acme.ID)
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	if diff := cmp.Diff([]keygate.ProviderKey{v1}, list); diff != "" {
		t.Errorf("ListKeys after failed puts (-want +got):\n%s", diff)
	}
	refs, err := e.s.ListWrapped(e.ctx, "kek-other", 1000)
	if err != nil || len(refs) != 1 {
		t.Errorf("ListWrapped = %v, %v; want only version 1", refs, err)
	}
	// The next successful put is version 2: failed attempts used no number.
	if v := MustPutKey(t, e.s, acme.ID, "openai", "sk-acme-openai-IIII"); v.Version != 2 {
		t.Errorf("next version = %d, want 2", v.Version)
	}
	if v := MustPutKey(t, e.s, acme.ID, "anthropic", "sk-ant-acme-JJJJ"); v.Version != 1 {
		t.Errorf("first anthropic version = %d, want 1", v.Version)
	}
	MustVerifyChain(t, e.s)
}

// concurrentPuts is how many goroutines race to rotate one key.
const concurrentPuts = 50

func testKeyConcurrentPut(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	var wg sync.WaitGroup
	results := make([]keygate.ProviderKey, concurrentPuts)
	errs := make([]error, concurrentPuts)
	for i := range concurrentPuts {
		wg.Go(func() {
			p := keyParams(acme.ID, "openai", fmt.Sprintf("sk-concurrent-%04d", i))
			p.Seal = func(keyID string, version int) (keygate.Sealed, error) {
				return FakeSeal(keyID, version)
			}
			results[i], errs[i] = e.s.PutKey(e.ctx, p, event("", acme.ID))
		})
	}
	wg.Wait()
	var versions []int
	for i, err := range errs {
		if err != nil {
			t.Fatalf("PutKey #%d: %v", i, err)
		}
		if results[i].ID != results[0].ID {
			t.Errorf("PutKey #%d: key id %s, want %s (one key)", i, results[i].ID, results[0].ID)
		}
		if want, _ := FakeSeal(results[i].ID, results[i].Version); !cmp.Equal(want, results[i].Sealed) {
			t.Errorf("PutKey #%d: version %d sealed as %q", i, results[i].Version, results[i].Sealed.Ciphertext)
		}
		versions = append(versions, results[i].Version)
	}
	slices.Sort(versions)
	var want []int
	for v := 1; v <= concurrentPuts; v++ {
		want = append(want, v)
	}
	if diff := cmp.Diff(want, versions); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	got, err := e.s.GetKey(e.ctx, acme.ID, "openai")
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	if got.Version != concurrentPuts {
		t.Errorf("current version = %d, want %d", got.Version, concurrentPuts)
	}

	evs := MustVerifyChain(t, e.s)
	count := map[string]int{}
	seen := map[int]bool{}
	for _, ev := range evs[1:] {
		count[ev.Action]++
		if seen[ev.Version] {
			t.Errorf("version %d audited twice", ev.Version)
		}
		seen[ev.Version] = true
		// Audit order is commit order, which is version order.
		if want := keygate.ActionKeyRotated; ev.Version == 1 {
			if ev.Action != keygate.ActionKeySet {
				t.Errorf("version 1 audited as %s", ev.Action)
			}
		} else if ev.Action != want {
			t.Errorf("version %d audited as %s, want %s", ev.Version, ev.Action, want)
		}
		if int64(ev.Version)+1 != ev.Seq {
			t.Errorf("audit seq %d has version %d, want %d", ev.Seq, ev.Version, ev.Seq-1)
		}
	}
	if diff := cmp.Diff(map[string]int{keygate.ActionKeySet: 1, keygate.ActionKeyRotated: concurrentPuts - 1}, count); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
	for _, f := range []keygate.AuditFilter{{Action: keygate.ActionKeySet}, {Action: keygate.ActionKeyRotated}} {
		evs, err := e.s.ListAudit(e.ctx, f)
		if err != nil {
			t.Fatalf("ListAudit(%s): %v", f.Action, err)
		}
		if wantN := count[f.Action]; len(evs) != wantN {
			t.Errorf("ListAudit(%s) = %d events, want %d", f.Action, len(evs), wantN)
		}
	}
}
