// SPDX-License-Identifier: Apache-2.0

package keeper_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/keeper"
)

func TestFileCreatedOnFirstRunAndReused(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "keygate-data")
	first := MustOpen(t, "", keeper.Options{DataDir: dataDir})
	path := filepath.Join(dataDir, "master.key")
	if diff := cmp.Diff([]any{keeper.KindFile, true, path}, []any{first.Kind(), first.Created(), first.Path()}); diff != "" {
		t.Errorf("first open: kind, created, path (-want +got):\n%s", diff)
	}
	if id := first.Primary().ID(); !regexp.MustCompile(`^mk_[0-9a-f]{8}$`).MatchString(id) {
		t.Errorf("key id %q, want mk_ and 8 hex digits", id)
	}
	if len(first.Others()) != 0 {
		t.Errorf("new file has %d older keys, want 0", len(first.Others()))
	}
	for p, want := range map[string]fs.FileMode{path: 0o600, dataDir: 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %04o, want %04o", p, got, want)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"version": 1`, `"primary": "mk_`, `"created_at": "2025-11-28T12:00:00Z"`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("key file lacks %s:\n%s", field, b)
		}
	}

	w := MustWrap(t, first.Primary(), testDEK())
	second := MustOpen(t, "file://"+path, keeper.Options{})
	if second.Created() {
		t.Error("second open created the file again")
	}
	if got, want := second.Primary().ID(), first.Primary().ID(); got != want {
		t.Errorf("second open: primary %s, want %s", got, want)
	}
	if diff := cmp.Diff(testDEK(), MustUnwrap(t, second.Primary(), w)); diff != "" {
		t.Errorf("unwrap after reopen (-want +got):\n%s", diff)
	}
	assertNoTempFiles(t, dataDir)
}

func TestFileModeTooOpen(t *testing.T) {
	for _, mode := range []fs.FileMode{0o640, 0o604, 0o644, 0o660, 0o666} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			MustOpen(t, "", keeper.Options{DataDir: dir})
			path := filepath.Join(dir, "master.key")
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, err := keeper.Open(context.Background(), "", keeper.Options{DataDir: dir})
			if !errors.Is(err, keeper.ErrInsecureFile) {
				t.Fatalf("err = %v, want ErrInsecureFile", err)
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "chmod 600") {
				t.Errorf("error does not name the file and the fix: %v", err)
			}
		})
	}
}

func TestFileBadContent(t *testing.T) {
	const key32 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	tests := []struct {
		name    string
		content string
	}{
		{"NotJSON", "not json"},
		{"UnknownField", `{"version":1,"primary":"mk_1","keys":[{"id":"mk_1","key":"` + key32 + `"}],"extra":1}`},
		{"UnknownVersion", `{"version":2,"primary":"mk_1","keys":[{"id":"mk_1","key":"` + key32 + `"}]}`},
		{"NoKeys", `{"version":1,"primary":"mk_1","keys":[]}`},
		{"ShortKey", `{"version":1,"primary":"mk_1","keys":[{"id":"mk_1","key":"AAAA"}]}`},
		{"NoID", `{"version":1,"primary":"","keys":[{"id":"","key":"` + key32 + `"}]}`},
		{"DuplicateID", `{"version":1,"primary":"mk_1","keys":[{"id":"mk_1","key":"` + key32 + `"},{"id":"mk_1","key":"` + key32 + `"}]}`},
		{"MissingPrimary", `{"version":1,"primary":"mk_2","keys":[{"id":"mk_1","key":"` + key32 + `"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "master.key")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := keeper.Open(context.Background(), "file://"+path, keeper.Options{})
			if !errors.Is(err, keeper.ErrBadKey) {
				t.Fatalf("err = %v, want ErrBadKey", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error does not name the file: %v", err)
			}
			if strings.Contains(err.Error(), key32) {
				t.Errorf("error contains key material: %v", err)
			}
		})
	}
}

func TestFileURL(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		url  string
		opt  keeper.Options
	}{
		{"Relative", "file://master.key", keeper.Options{}},
		{"RelativePath", "file:master.key", keeper.Options{}},
		{"Host", "file://example.com/master.key", keeper.Options{}},
		{"Query", "file://" + dir + "/master.key?x=1", keeper.Options{}},
		{"NoDataDir", "", keeper.Options{}},
		{"NotAURL", "master.key", keeper.Options{}},
		{"UnknownScheme", "s3://bucket/key", keeper.Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := keeper.Open(context.Background(), tc.url, tc.opt); err == nil {
				t.Fatal("no error")
			}
		})
	}
	t.Run("Localhost", func(t *testing.T) {
		s := MustOpen(t, "file://localhost"+dir+"/sub/master.key", keeper.Options{})
		if !s.Created() || s.Path() != dir+"/sub/master.key" {
			t.Errorf("created %v at %q", s.Created(), s.Path())
		}
	})
}

func TestFileNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "master.key"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := keeper.Open(context.Background(), "", keeper.Options{DataDir: dir})
	if !errors.Is(err, keeper.ErrBadKey) {
		t.Fatalf("err = %v, want ErrBadKey", err)
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "master.key" {
			t.Errorf("unexpected file left in %s: %s", dir, e.Name())
		}
	}
}
