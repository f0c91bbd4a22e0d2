// SPDX-License-Identifier: Apache-2.0

package provider_test

import (
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/provider"
)

// FuzzRoute: any model name routes to a catalog provider or to none, never
// panics, and "provider/model" never routes elsewhere than that provider.
func FuzzRoute(f *testing.F) {
	c, err := provider.Default()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"gpt-4o", "claude-sonnet-4-5", "gemini-2.0-flash", "groq/llama", "openai/", "/x", "", "a/b/c", "\x00", "o1", "mistral-large"} {
		f.Add(s)
	}
	names := map[string]bool{}
	for _, n := range c.Names() {
		names[n] = true
	}
	f.Fuzz(func(t *testing.T, model string) {
		p, up, ok := c.Route(model)
		if !ok {
			return
		}
		if !names[p] {
			t.Fatalf("Route(%q) = unknown provider %q", model, p)
		}
		if prefix, rest, found := strings.Cut(model, "/"); found && names[prefix] && (p != prefix || up != rest) {
			t.Fatalf("Route(%q) = %q, %q; want %q, %q", model, p, up, prefix, rest)
		}
	})
}

// FuzzCheckKeyFormat: the format check never panics and never echoes the
// key in its message.
func FuzzCheckKeyFormat(f *testing.F) {
	c, err := provider.Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("openai", "sk-abcdefghijklmnopqrstuvwxyz")
	f.Add("anthropic", "sk-ant-\n")
	f.Add("google", "AIza")
	f.Add("nope", "x")
	f.Fuzz(func(t *testing.T, name, key string) {
		err := c.CheckKeyFormat(name, keygate.NewSecret(key))
		// The message names the provider the caller typed only when that
		// cannot be a key (MayEcho), so a key that is part of such a name
		// proves nothing.
		if err != nil && len(key) >= 8 && !(c.MayEcho(name) && strings.Contains(name, key)) && strings.Contains(err.Error(), key) {
			t.Fatalf("the format error echoes the key")
		}
	})
}
