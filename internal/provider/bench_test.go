// SPDX-License-Identifier: Apache-2.0

package provider_test

import (
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/provider"
)

func BenchmarkRoute(b *testing.B) {
	c := MustDefault(b)
	for b.Loop() {
		c.Route("claude-sonnet-4-5")
	}
}

func BenchmarkCheckKeyFormat(b *testing.B) {
	c := MustDefault(b)
	k := keygate.NewSecret("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop")
	for b.Loop() {
		if err := c.CheckKeyFormat("openai", k); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDefault(b *testing.B) {
	for b.Loop() {
		if _, err := provider.Default(); err != nil {
			b.Fatal(err)
		}
	}
}
