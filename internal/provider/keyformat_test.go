// SPDX-License-Identifier: Apache-2.0

package provider_test

import (
	"strings"
	"testing"

	"github.com/keygate/keygate"
)

func TestCheckKeyFormat(t *testing.T) {
	c := MustDefault(t)
	const okOpenAI = "sk-proj-abcdefghijklmnopqrstuvwxyz012345"
	tests := []struct {
		name, provider, key string
		code                string // "" for valid
		msg                 string // a substring of the message
	}{
		{"openai valid", "openai", okOpenAI, "", ""},
		{"anthropic valid", "anthropic", "sk-ant-api03-" + strings.Repeat("a", 80), "", ""},
		{"google valid", "google", "AIza" + strings.Repeat("B", 35), "", ""},
		{"mistral valid", "mistral", strings.Repeat("aB3", 11), "", ""},
		{"openrouter valid", "openrouter", "sk-or-v1-" + strings.Repeat("f", 64), "", ""},
		{"groq valid", "groq", "gsk_" + strings.Repeat("x", 52), "", ""},
		{"exa valid", "exa", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "", ""},
		{"deepgram valid", "deepgram", strings.Repeat("ab12", 10), "", ""},
		{"elevenlabs valid", "elevenlabs", "sk_" + strings.Repeat("9", 48), "", ""},
		{"empty", "openai", "", keygate.CodeInvalidKeyFormat, "is empty"},
		{"leading space", "openai", " " + okOpenAI, keygate.CodeInvalidKeyFormat, "leading or trailing whitespace"},
		{"trailing newline", "openai", okOpenAI + "\n", keygate.CodeInvalidKeyFormat, "line break"},
		{"inner space", "openai", "sk-proj abcdefghijklmnopqrstuvwxyz", keygate.CodeInvalidKeyFormat, "whitespace (at position 8)"},
		{"inner CR", "openai", "sk-proj\rabcdefghijklmnopqrstuvwxyz", keygate.CodeInvalidKeyFormat, "line break"},
		{"tab", "openai", "sk-proj\tabcdefghijklmnopqrstuvwxyz", keygate.CodeInvalidKeyFormat, "whitespace"},
		{"control", "openai", "sk-proj\x00abcdefghijklmnopqrstuvwxyz", keygate.CodeInvalidKeyFormat, "control character"},
		{"zero-width space", "openai", "sk-proj\u200babcdefghijklmnopqrstuvwxyz", keygate.CodeInvalidKeyFormat, "invisible"},
		{"non-breaking space", "openai", "sk-proj\u00a0abcdefghijklmnopqrstuvwxyz", keygate.CodeInvalidKeyFormat, "whitespace"},
		{"wrong prefix", "openai", "pk-abcdefghijklmnopqrstuvwxyz", keygate.CodeInvalidKeyFormat, `An openai key starts with "sk-".`},
		{"google wrong prefix", "google", strings.Repeat("B", 39), keygate.CodeInvalidKeyFormat, `A google key starts with "AIza".`},
		{"anthropic key in openai", "openai", "sk-ant-api03-" + strings.Repeat("a", 80), keygate.CodeInvalidKeyFormat, "looks like an anthropic key"},
		{"openai key in anthropic", "anthropic", okOpenAI, keygate.CodeInvalidKeyFormat, "looks like an openai key"},
		{"anthropic wrong prefix", "anthropic", "xx-" + strings.Repeat("a", 60), keygate.CodeInvalidKeyFormat, `An anthropic key starts with "sk-ant-".`},
		{"groq key in exa", "exa", "gsk_" + strings.Repeat("x", 52), keygate.CodeInvalidKeyFormat, "looks like a groq key"},
		{"too short", "openai", "sk-abc", keygate.CodeInvalidKeyFormat, "too short: 6 characters, at least 20"},
		{"too long", "openai", "sk-" + strings.Repeat("a", 600), keygate.CodeInvalidKeyFormat, "too long"},
		{"google exact length", "google", "AIza" + strings.Repeat("B", 30), keygate.CodeInvalidKeyFormat, "is 39 characters long"},
		{"bad character", "openai", "sk-proj-abcdefghij.klmnopqrstuvwxyz", keygate.CodeInvalidKeyFormat, "position 19"},
		{"non-ASCII", "mistral", strings.Repeat("a", 31) + "é", keygate.CodeInvalidKeyFormat, "not allowed"},
		{"unknown provider", "cohere", okOpenAI, keygate.CodeUnknownProvider, "Known providers: anthropic, deepgram"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := c.CheckKeyFormat(tc.provider, keygate.NewSecret(tc.key))
			if got := keygate.ErrorCode(err); got != tc.code {
				t.Fatalf("code %q (%v), want %q", got, err, tc.code)
			}
			if err == nil {
				return
			}
			msg := keygate.ErrorMessage(err)
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q does not contain %q", msg, tc.msg)
			}
			// The message never quotes the key, not even a part of it.
			if body := strings.TrimSpace(tc.key); len(body) >= 8 && strings.Contains(msg, body[len(body)-8:]) {
				t.Errorf("message %q leaks the key", msg)
			}
		})
	}
}
