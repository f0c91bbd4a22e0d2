// SPDX-License-Identifier: Apache-2.0

package keeper_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/keeper"
)

// TestRetireFile: a retired key is gone from the set and from the key file
// (a restart does not see it, and nothing left in the file unwraps what
// it wrapped); the primary stays and still unwraps; the file stays 0600.
func TestRetireFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := MustOpen(t, "", keeper.Options{DataDir: dir})
	oldID := s.Primary().ID()
	oldWrapped := MustWrap(t, s.Primary(), testDEK())
	if _, err := s.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	newWrapped := MustWrap(t, s.Primary(), testDEK())
	if err := s.Retire(ctx, oldID); err != nil {
		t.Fatalf("Retire: %v", err)
	}
	if len(s.Others()) != 0 {
		t.Errorf("others after retire: %v", ids(s.Others()))
	}
	b, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), oldID) {
		t.Errorf("the key file still names %s", oldID)
	}
	re := MustOpen(t, "", keeper.Options{DataDir: dir})
	if re.Primary().ID() != s.Primary().ID() || len(re.Others()) != 0 {
		t.Fatalf("reopened: primary %s, others %v", re.Primary().ID(), ids(re.Others()))
	}
	if diff := cmp.Diff(testDEK(), MustUnwrap(t, re.Primary(), newWrapped)); diff != "" {
		t.Errorf("primary unwrap after retire (-want +got):\n%s", diff)
	}
	if _, err := re.Primary().Unwrap(ctx, oldWrapped); err == nil {
		t.Error("the remaining key unwraps what the retired key wrapped")
	}
	fi, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file after retire: %v, mode %v", err, fi.Mode().Perm())
	}
	assertNoTempFiles(t, dir)
}

func TestRetireRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := MustOpen(t, "", keeper.Options{DataDir: dir})
	env := envOf(map[string]string{"K": randomKey(t, 32)})
	withPrev := MustOpen(t, "env://K", keeper.Options{Getenv: env, Previous: []string{"file://" + file.Path()}})
	tests := []struct {
		name string
		s    *keeper.Set
		id   string
		code string
	}{
		{"Primary", file, file.Primary().ID(), keygate.CodeConflict},
		{"Unknown", file, "mk_00000000", keygate.CodeNotFound},
		{"PreviousURL", withPrev, file.Primary().ID(), keygate.CodeUnsupported},
		{"EnvPrimary", withPrev, withPrev.Primary().ID(), keygate.CodeConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.Retire(ctx, tc.id); !keygate.IsCode(err, tc.code) {
				t.Fatalf("Retire(%s) = %v, want code %s", tc.id, err, tc.code)
			}
		})
	}
	if err := withPrev.Retire(ctx, file.Primary().ID()); !strings.Contains(keygate.ErrorMessage(err), "--master-key-previous") {
		t.Errorf("retiring a previous URL's key does not say how: %v", err)
	}
}

// TestBeforeCreate: a refusal leaves no key file; an existing file is
// opened without asking.
func TestBeforeCreate(t *testing.T) {
	dir := t.TempDir()
	refuse := errors.New("the database holds encrypted data")
	asked := 0
	opt := keeper.Options{DataDir: dir, BeforeCreate: func(string) error { asked++; return refuse }}
	if _, err := keeper.Open(context.Background(), "", opt); !errors.Is(err, refuse) {
		t.Fatalf("Open with a refusing BeforeCreate: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("key file after a refusal: %v", err)
	}
	MustOpen(t, "", keeper.Options{DataDir: dir})
	asked = 0
	MustOpen(t, "", opt)
	if asked != 0 {
		t.Errorf("BeforeCreate asked %d times for an existing file", asked)
	}
}
