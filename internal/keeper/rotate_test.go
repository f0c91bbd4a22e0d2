// SPDX-License-Identifier: Apache-2.0

package keeper_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/keeper"
)

func TestRotateFileKeepsOldKeysReadable(t *testing.T) {
	dir := t.TempDir()
	s := MustOpen(t, "", keeper.Options{DataDir: dir})
	oldID := s.Primary().ID()
	w := MustWrap(t, s.Primary(), testDEK())

	newKEK, err := s.Rotate(context.Background())
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if newKEK.ID() == oldID || s.Primary().ID() != newKEK.ID() {
		t.Fatalf("after rotate: primary %s, returned %s, old %s", s.Primary().ID(), newKEK.ID(), oldID)
	}
	if diff := cmp.Diff([]string{oldID}, ids(s.Others())); diff != "" {
		t.Errorf("others after rotate (-want +got):\n%s", diff)
	}
	if _, err := s.Rotate(context.Background()); err != nil {
		t.Fatalf("second Rotate: %v", err)
	}

	// A restart sees the same keyring, and the first key still unwraps.
	re := MustOpen(t, "", keeper.Options{DataDir: dir})
	if re.Primary().ID() != s.Primary().ID() {
		t.Errorf("reopened primary %s, want %s", re.Primary().ID(), s.Primary().ID())
	}
	if diff := cmp.Diff(ids(s.Others()), ids(re.Others())); diff != "" {
		t.Errorf("reopened others (-want +got):\n%s", diff)
	}
	old := find(t, re.Others(), oldID)
	if diff := cmp.Diff(testDEK(), MustUnwrap(t, old, w)); diff != "" {
		t.Errorf("old key unwrap after rotation (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after rotate %04o, want 0600", fi.Mode().Perm())
	}
	assertNoTempFiles(t, dir)
}

func TestRotateUnsupported(t *testing.T) {
	tests := []struct {
		name string
		url  string
		opt  keeper.Options
	}{
		{"Env", "env://K", keeper.Options{Getenv: envOf(map[string]string{"K": randomKey(t, 32)})}},
		{"KMS", base64keyURL(t), keeper.Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustOpen(t, tc.url, tc.opt)
			_, err := s.Rotate(context.Background())
			if !keygate.IsCode(err, keygate.CodeUnsupported) {
				t.Fatalf("err = %v, want code %s", err, keygate.CodeUnsupported)
			}
		})
	}
}

// An operator moves from the key file to an env key: the file becomes a
// previous key, read-only, and is never created if absent.
func TestPrevious(t *testing.T) {
	dir := t.TempDir()
	file := MustOpen(t, "", keeper.Options{DataDir: dir})
	w := MustWrap(t, file.Primary(), testDEK())

	env := envOf(map[string]string{"K": randomKey(t, 32)})
	s := MustOpen(t, "env://K", keeper.Options{Getenv: env, Previous: []string{"file://" + file.Path()}})
	if diff := cmp.Diff([]string{file.Primary().ID()}, ids(s.Others())); diff != "" {
		t.Errorf("others (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(testDEK(), MustUnwrap(t, s.Others()[0], w)); diff != "" {
		t.Errorf("previous key unwrap (-want +got):\n%s", diff)
	}

	missing := filepath.Join(t.TempDir(), "gone.key")
	if _, err := keeper.Open(context.Background(), "env://K", keeper.Options{Getenv: env, Previous: []string{"file://" + missing}}); err == nil {
		t.Error("missing previous key file: no error")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a previous key file was created")
	}
}

func ids(keks []keeper.KEK) []string {
	var out []string
	for _, k := range keks {
		out = append(out, k.ID())
	}
	return out
}

func find(t *testing.T, keks []keeper.KEK, id string) keeper.KEK {
	t.Helper()
	for _, k := range keks {
		if k.ID() == id {
			return k
		}
	}
	t.Fatalf("no key %s", id)
	return nil
}
