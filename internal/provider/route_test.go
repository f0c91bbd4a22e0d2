// SPDX-License-Identifier: Apache-2.0

package provider_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoute(t *testing.T) {
	c := MustDefault(t)
	type result struct {
		Provider, Model string
		OK              bool
	}
	tests := []struct {
		model string
		want  result
	}{
		{"gpt-4o", result{"openai", "gpt-4o", true}},
		{"gpt-4o-mini", result{"openai", "gpt-4o-mini", true}},
		{"o1", result{"openai", "o1", true}},
		{"o3-mini", result{"openai", "o3-mini", true}},
		{"o4-mini", result{"openai", "o4-mini", true}},
		{"chatgpt-4o-latest", result{"openai", "chatgpt-4o-latest", true}},
		{"text-embedding-3-small", result{"openai", "text-embedding-3-small", true}},
		{"claude-sonnet-4-5", result{"anthropic", "claude-sonnet-4-5", true}},
		{"gemini-2.5-flash", result{"google", "gemini-2.5-flash", true}},
		{"mistral-large-latest", result{"mistral", "mistral-large-latest", true}},
		{"codestral-latest", result{"mistral", "codestral-latest", true}},
		{"mistral/mistral-large", result{"mistral", "mistral-large", true}},
		{"openrouter/anthropic/claude-3.5-sonnet", result{"openrouter", "anthropic/claude-3.5-sonnet", true}},
		{"groq/llama-3.3-70b-versatile", result{"groq", "llama-3.3-70b-versatile", true}},
		{"openai/gpt-4o", result{"openai", "gpt-4o", true}},
		{"meta-llama/llama-3", result{}},
		{"groq/", result{}},
		{"llama-3.3-70b", result{}},
		{"", result{}},
		{"GPT-4o", result{}},
	}
	for _, tc := range tests {
		t.Run(tc.model, func(t *testing.T) {
			p, m, ok := c.Route(tc.model)
			if diff := cmp.Diff(tc.want, result{p, m, ok}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
