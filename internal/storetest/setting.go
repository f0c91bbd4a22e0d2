// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

func testSettings(t *testing.T, e *env) {
	_, err := e.s.GetSetting(e.ctx, "fingerprint_secret")
	wantCode(t, "GetSetting(absent)", err, keygate.CodeNotFound)

	first := keygate.Sealed{Ciphertext: []byte("ct-1"), WrappedDEK: []byte("dek-1"), KEKID: "kek1"}
	second := keygate.Sealed{Ciphertext: []byte("ct-2"), WrappedDEK: []byte("dek-2"), KEKID: "kek2"}
	tests := []struct {
		name string
		init keygate.Sealed
		want keygate.Sealed
	}{
		{"Stores", first, first},
		{"KeepsExisting", second, first},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.s.InitSetting(e.ctx, "fingerprint_secret", tc.init)
			if err != nil {
				t.Fatalf("InitSetting: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("InitSetting (-want +got):\n%s", diff)
			}
			got, err = e.s.GetSetting(e.ctx, "fingerprint_secret")
			if err != nil {
				t.Fatalf("GetSetting: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("GetSetting (-want +got):\n%s", diff)
			}
		})
	}
	_, err = e.s.GetSetting(e.ctx, "other")
	wantCode(t, "GetSetting(other)", err, keygate.CodeNotFound)
}

func testWrappedRewrap(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	k1 := MustPutKey(t, e.s, acme.ID, "openai", "sk-acme-openai-1111")
	k2 := MustPutKey(t, e.s, acme.ID, "openai", "sk-acme-openai-2222")
	setting := keygate.Sealed{Ciphertext: []byte("ct-s"), WrappedDEK: []byte("dek-s"), KEKID: "kek1"}
	if _, err := e.s.InitSetting(e.ctx, "fingerprint_secret", setting); err != nil {
		t.Fatalf("InitSetting: %v", err)
	}
	all := []keygate.WrappedRef{
		{Kind: "key", KeyID: k1.ID, Version: 1, WrappedDEK: k1.Sealed.WrappedDEK, KEKID: "kek1"},
		{Kind: "key", KeyID: k1.ID, Version: 2, WrappedDEK: k2.Sealed.WrappedDEK, KEKID: "kek1"},
		{Kind: "setting", Name: "fingerprint_secret", WrappedDEK: []byte("dek-s"), KEKID: "kek1"},
	}
	list := func(notKEK string, limit int) []keygate.WrappedRef {
		t.Helper()
		refs, err := e.s.ListWrapped(e.ctx, notKEK, limit)
		if err != nil {
			t.Fatalf("ListWrapped(%s, %d): %v", notKEK, limit, err)
		}
		return refs
	}
	tests := []struct {
		name   string
		notKEK string
		limit  int
		want   []keygate.WrappedRef
	}{
		{"All", "kek2", 100, all},
		{"DefaultLimit", "kek2", 0, all},
		{"Limit", "kek2", 2, all[:2]},
		{"NoneOld", "kek1", 100, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, list(tc.notKEK, tc.limit), diffOpts...); diff != "" {
				t.Errorf("ListWrapped (-want +got):\n%s", diff)
			}
		})
	}

	rewrap := func(ref keygate.WrappedRef, wrapped string) bool {
		t.Helper()
		ok, err := e.s.Rewrap(e.ctx, ref, []byte(wrapped), "kek2")
		if err != nil {
			t.Fatalf("Rewrap(%+v): %v", ref, err)
		}
		return ok
	}
	if !rewrap(all[1], "dek-new-2") {
		t.Fatalf("Rewrap(current version) = false, want true")
	}
	if rewrap(all[1], "dek-newer-2") {
		t.Errorf("Rewrap(stale ref) = true, want false (compare-and-swap)")
	}
	stale := all[0]
	stale.WrappedDEK = []byte("something else")
	if rewrap(stale, "dek-new-1") {
		t.Errorf("Rewrap(ref with other wrapped bytes) = true, want false")
	}
	gone := all[0]
	gone.Version = 9
	if rewrap(gone, "dek-new-9") {
		t.Errorf("Rewrap(missing version) = true, want false")
	}
	got, err := e.s.GetKey(e.ctx, acme.ID, "openai")
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	want := k2
	want.Sealed.WrappedDEK, want.Sealed.KEKID = []byte("dek-new-2"), "kek2"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetKey after rewrap (-want +got):\n%s", diff)
	}

	if !rewrap(all[2], "dek-new-s") {
		t.Fatalf("Rewrap(setting) = false, want true")
	}
	gotSetting, err := e.s.GetSetting(e.ctx, "fingerprint_secret")
	if err != nil {
		t.Fatalf("GetSetting: %v", err)
	}
	if diff := cmp.Diff(keygate.Sealed{Ciphertext: []byte("ct-s"), WrappedDEK: []byte("dek-new-s"), KEKID: "kek2"}, gotSetting); diff != "" {
		t.Errorf("GetSetting after rewrap (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(all[:1], list("kek2", 100), diffOpts...); diff != "" {
		t.Errorf("ListWrapped after rewrap (-want +got):\n%s", diff)
	}
	if !rewrap(all[0], "dek-new-1") {
		t.Fatalf("Rewrap(version 1) = false, want true")
	}
	if refs := list("kek2", 100); len(refs) != 0 {
		t.Errorf("ListWrapped after rewrapping everything = %+v, want none", refs)
	}

	_, err = e.s.Rewrap(e.ctx, keygate.WrappedRef{Kind: "bogus"}, []byte("x"), "kek2")
	wantCode(t, "Rewrap(unknown kind)", err, keygate.CodeInvalidRequest)
}
