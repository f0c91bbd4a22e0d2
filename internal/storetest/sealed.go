// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

// sealing is implemented by stores that seal audit events with a keyed
// MAC (sqlstore.Store.SealAuditWith).
type sealing interface {
	SealAuditWith(keygate.AuditSealer)
}

// fakeSealer seals with a fixed key under a fixed id, or fails.
type fakeSealer struct {
	id  string
	key []byte
	err error
}

func (f fakeSealer) SealAudit(ev *keygate.AuditEvent, prev string) error {
	if f.err != nil {
		return f.err
	}
	ev.MACKeyID = f.id
	ev.Hash = ev.ComputeMAC(f.key, prev)
	return nil
}

// testAuditSealed: with a sealer, every event appended (by AppendAudit
// and by a write that audits) carries the sealer's key id and MAC,
// chained onto the unsealed events before it; a sealer that fails fails
// the write, which then changes nothing.
func testAuditSealed(t *testing.T, e *env) {
	st, ok := e.s.(sealing)
	if !ok {
		t.Skip("the store does not seal audit events")
	}
	plain := MustAppend(t, e.s, keygate.AuditEvent{Action: keygate.ActionTenantCreated})
	sealer := fakeSealer{id: "ak_test", key: []byte("0123456789abcdef0123456789abcdef")}
	st.SealAuditWith(sealer)
	defer st.SealAuditWith(nil)
	first := MustAppend(t, e.s, keygate.AuditEvent{Action: keygate.ActionKeySet, MACKeyID: "ak_forged", Hash: "bogus"})
	if _, err := e.s.CreateTenant(e.ctx, keygate.Tenant{ID: "tn_sealed", Name: "sealed"},
		keygate.AuditEvent{Action: keygate.ActionTenantCreated, Tenant: "tn_sealed"}); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	all := MustScanAll(t, e.s)
	if len(all) != 3 {
		t.Fatalf("%d events, want 3", len(all))
	}
	if diff := cmp.Diff(plain, all[0]); diff != "" {
		t.Errorf("unsealed event (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(first, all[1]); diff != "" {
		t.Errorf("sealed event as appended and as stored (-appended +stored):\n%s", diff)
	}
	prev := plain.Hash
	for _, ev := range all[1:] {
		if ev.MACKeyID != "ak_test" || ev.PrevHash != prev || ev.Hash != ev.ComputeMAC(sealer.key, prev) {
			t.Errorf("event %d: key %q prev %q hash %q; want ak_test, %q and its MAC", ev.Seq, ev.MACKeyID, ev.PrevHash, ev.Hash, prev)
		}
		prev = ev.Hash
	}

	st.SealAuditWith(fakeSealer{err: errors.New("no audit key")})
	if _, err := e.s.AppendAudit(e.ctx, keygate.AuditEvent{Action: keygate.ActionKeySet}); err == nil {
		t.Errorf("AppendAudit with a failing sealer succeeded")
	}
	if _, err := e.s.CreateTenant(e.ctx, keygate.Tenant{ID: "tn_unsealed", Name: "unsealed"},
		keygate.AuditEvent{Action: keygate.ActionTenantCreated, Tenant: "tn_unsealed"}); err == nil {
		t.Errorf("CreateTenant with a failing sealer succeeded")
	}
	if _, err := e.s.GetTenant(e.ctx, "tn_unsealed"); !keygate.IsCode(err, keygate.CodeNotFound) {
		t.Errorf("GetTenant after a failed sealed write: %v, want not_found", err)
	}
	if got := mustHead(t, e.s); got != 3 {
		t.Errorf("audit head = %d, want 3", got)
	}
}

// testSettingsList: ListSettings returns the settings with a prefix,
// oldest first and then by name, sealed material and time included.
func testSettingsList(t *testing.T, e *env) {
	put := func(name string) keygate.Setting {
		t.Helper()
		s := keygate.Sealed{Ciphertext: []byte("ct-" + name), WrappedDEK: []byte("dek-" + name), KEKID: "kek1"}
		if _, err := e.s.InitSetting(e.ctx, name, s); err != nil {
			t.Fatalf("InitSetting(%s): %v", name, err)
		}
		return keygate.Setting{Name: name, Sealed: s, CreatedAt: e.now()}
	}
	b := put("audit_key:ak_b")
	other := put("fingerprint_key")
	a := put("audit_key:ak_a")
	e.clock.Advance(time.Second)
	c := put("audit_key:ak_0")
	tests := []struct {
		prefix string
		want   []keygate.Setting
	}{
		{"audit_key:", []keygate.Setting{a, b, c}},
		{"fingerprint", []keygate.Setting{other}},
		{"", []keygate.Setting{a, b, other, c}},
		{"none:", nil},
	}
	for _, tc := range tests {
		got, err := e.s.ListSettings(e.ctx, tc.prefix)
		if err != nil {
			t.Fatalf("ListSettings(%q): %v", tc.prefix, err)
		}
		if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })); diff != "" {
			t.Errorf("ListSettings(%q) (-want +got):\n%s", tc.prefix, diff)
		}
	}
}
