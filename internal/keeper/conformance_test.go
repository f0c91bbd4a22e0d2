// SPDX-License-Identifier: Apache-2.0

package keeper_test

import (
	"path/filepath"
	"testing"

	"github.com/keygate/keygate/internal/keeper"
	"github.com/keygate/keygate/internal/keeper/keepertest"
)

func TestConformance(t *testing.T) {
	pair := func(open func(t *testing.T) keeper.KEK) keepertest.NewKEKs {
		return func(t *testing.T) (a, b keepertest.KEK) { return open(t), open(t) }
	}
	tests := []struct {
		name string
		open func(t *testing.T) keeper.KEK
	}{
		{"File", func(t *testing.T) keeper.KEK {
			return MustOpen(t, "", keeper.Options{DataDir: filepath.Join(t.TempDir(), "d")}).Primary()
		}},
		{"Env", func(t *testing.T) keeper.KEK {
			return MustOpen(t, "env://K", keeper.Options{Getenv: envOf(map[string]string{"K": randomKey(t, 32)})}).Primary()
		}},
		{"Base64Key", func(t *testing.T) keeper.KEK {
			return MustOpen(t, base64keyURL(t), keeper.Options{}).Primary()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { keepertest.Run(t, pair(tc.open)) })
	}
}
