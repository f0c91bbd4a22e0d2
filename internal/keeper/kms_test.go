// SPDX-License-Identifier: Apache-2.0

package keeper_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/keeper"
)

// base64keyURL returns a go-cloud localsecrets URL with a random key.
func base64keyURL(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return "base64key://" + base64.URLEncoding.EncodeToString(b)
}

func TestBase64KeyRoundTrip(t *testing.T) {
	u := base64keyURL(t)
	s := MustOpen(t, u, keeper.Options{})
	if s.Kind() != keeper.KindKMS {
		t.Errorf("kind %q, want %q", s.Kind(), keeper.KindKMS)
	}
	if id := s.Primary().ID(); !regexp.MustCompile(`^mk_kms_[0-9a-f]{16}$`).MatchString(id) {
		t.Errorf("id %q, want mk_kms_ and 16 hex digits", id)
	}
	w := MustWrap(t, s.Primary(), testDEK())
	// Another process configured with the same URL.
	again := MustOpen(t, u, keeper.Options{})
	if again.Primary().ID() != s.Primary().ID() {
		t.Errorf("same URL, ids %s and %s", again.Primary().ID(), s.Primary().ID())
	}
	if diff := cmp.Diff(testDEK(), MustUnwrap(t, again.Primary(), w)); diff != "" {
		t.Errorf("unwrap (-want +got):\n%s", diff)
	}
	if _, err := s.Rotate(context.Background()); err == nil {
		t.Error("Rotate of a KMS key: no error")
	}
}

func TestKMSURLErrors(t *testing.T) {
	key := strings.TrimPrefix(base64keyURL(t), "base64key://")
	tests := []struct {
		name string
		url  string
		opt  keeper.Options
	}{
		{"Base64KeyNoKey", "base64key://", keeper.Options{}},
		{"Base64KeyShort", "base64key://" + key[:20], keeper.Options{}},
		{"Base64KeyQuery", "base64key://" + key + "?x=y", keeper.Options{}},
		{"UnknownScheme", "kms2://" + key, keeper.Options{}},
		{"BadURL", "base64key://" + key + "%zz", keeper.Options{}},
		{"VaultNoGetenv", "hashivault://mykey", keeper.Options{}},
		{"VaultNoAddr", "hashivault://mykey", keeper.Options{Getenv: envOf(nil)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := keeper.Open(context.Background(), tc.url, tc.opt)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), key[:20]) {
				t.Errorf("error contains key material: %v", err)
			}
		})
	}
}
