// SPDX-License-Identifier: Apache-2.0

package provider_test

import (
	"strings"
	"testing"
)

func TestWithBaseURLs(t *testing.T) {
	c := MustDefault(t)
	got, err := c.WithBaseURLs(map[string]string{"openai": "http://127.0.0.1:9999/openai/", "exa": "https://exa.internal"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"openai":    "http://127.0.0.1:9999/openai",
		"exa":       "https://exa.internal",
		"anthropic": "https://api.anthropic.com",
	} {
		p, _ := got.Lookup(name)
		if p.BaseURL != want {
			t.Errorf("%s base URL %q, want %q", name, p.BaseURL, want)
		}
	}
	if p, _ := c.Lookup("openai"); p.BaseURL != "https://api.openai.com" {
		t.Errorf("the original catalog changed: %q", p.BaseURL)
	}
	if pr, m, ok := got.Route("gpt-4o"); pr != "openai" || m != "gpt-4o" || !ok {
		t.Error("routing lost in the copy")
	}

	tests := []struct {
		name string
		in   map[string]string
		want string
	}{
		{"unknown provider", map[string]string{"cohere": "https://x.test"}, "unknown provider"},
		{"not http", map[string]string{"openai": "ftp://x.test"}, "http or https"},
		{"relative", map[string]string{"openai": "/openai"}, "http or https"},
		{"no host", map[string]string{"openai": "http://"}, "no host"},
		{"credentials", map[string]string{"openai": "https://user:pw@x.test"}, "credentials"},
		{"query", map[string]string{"openai": "https://x.test/?key=1"}, "query"},
		{"empty", map[string]string{"openai": ""}, "http or https"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.WithBaseURLs(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "pw") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}
