// SPDX-License-Identifier: Apache-2.0

package keeper_test

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/keeper"
)

func TestEnv(t *testing.T) {
	good := randomKey(t, 32)
	tests := []struct {
		name    string
		url     string
		env     map[string]string
		wantErr error // nil: success
	}{
		{"OK", "env://KEYGATE_MK", map[string]string{"KEYGATE_MK": good}, nil},
		{"OKSurroundingSpace", "env://KEYGATE_MK", map[string]string{"KEYGATE_MK": " " + good + "\n"}, nil},
		{"Short", "env://KEYGATE_MK", map[string]string{"KEYGATE_MK": randomKey(t, 16)}, keeper.ErrBadKey},
		{"Long", "env://KEYGATE_MK", map[string]string{"KEYGATE_MK": randomKey(t, 33)}, keeper.ErrBadKey},
		{"BadBase64", "env://KEYGATE_MK", map[string]string{"KEYGATE_MK": "not base64!!" + good}, keeper.ErrBadKey},
		{"URLBase64", "env://KEYGATE_MK", map[string]string{"KEYGATE_MK": base64.URLEncoding.EncodeToString(make([]byte, 32))[:42] + "_-"}, keeper.ErrBadKey},
		{"Unset", "env://KEYGATE_MK", map[string]string{}, keeper.ErrBadKey},
		{"BadName", "env://KEYGATE-MK", map[string]string{"KEYGATE-MK": good}, keeper.ErrBadKey},
		{"NoName", "env://", map[string]string{}, keeper.ErrBadKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := keeper.Open(context.Background(), tc.url, keeper.Options{Getenv: envOf(tc.env)})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				for _, v := range tc.env {
					if len(v) > 8 && strings.Contains(err.Error(), strings.TrimSpace(v)) {
						t.Errorf("error contains the variable's value: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if s.Kind() != keeper.KindEnv || s.Created() {
				t.Errorf("kind %q created %v", s.Kind(), s.Created())
			}
			if id := s.Primary().ID(); !regexp.MustCompile(`^mk_env_[0-9a-f]{16}$`).MatchString(id) {
				t.Errorf("id %q, want mk_env_ and 16 hex digits", id)
			}
		})
	}
}

func TestEnvNoGetenv(t *testing.T) {
	if _, err := keeper.Open(context.Background(), "env://KEYGATE_MK", keeper.Options{}); err == nil {
		t.Fatal("no error without a Getenv function")
	}
}

// Replicas given the same key agree on its id, so records written by one
// open on another; a different key has a different id.
func TestEnvIDDeterministic(t *testing.T) {
	k1, k2 := randomKey(t, 32), randomKey(t, 32)
	a := MustOpen(t, "env://A", keeper.Options{Getenv: envOf(map[string]string{"A": k1})})
	b := MustOpen(t, "env://B", keeper.Options{Getenv: envOf(map[string]string{"B": k1})})
	c := MustOpen(t, "env://A", keeper.Options{Getenv: envOf(map[string]string{"A": k2})})
	if a.Primary().ID() != b.Primary().ID() {
		t.Errorf("same key, ids %s and %s", a.Primary().ID(), b.Primary().ID())
	}
	if a.Primary().ID() == c.Primary().ID() {
		t.Errorf("different keys share id %s", a.Primary().ID())
	}
	if diff := cmp.Diff(testDEK(), MustUnwrap(t, b.Primary(), MustWrap(t, a.Primary(), testDEK()))); diff != "" {
		t.Errorf("replica unwrap (-want +got):\n%s", diff)
	}
}
