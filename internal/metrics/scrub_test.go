// SPDX-License-Identifier: Apache-2.0

package metrics_test

import (
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/metrics"
	"github.com/keygate/keygate/internal/testkit"
)

func TestLooksSecret(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		// Names and ids keygate and its providers use: never secrets.
		{"ModelOpenAI", "gpt-4o-mini-2024-07-18", false},
		{"ModelAnthropic", "claude-3-5-sonnet-20241022", false},
		{"ModelOpenRouter", "meta-llama/Llama-3.1-405B-Instruct-Turbo", false},
		{"ModelFineTune", "ft:gpt-4o-mini-2024-07-18:acme-corp::AbC12xYz", false},
		{"ModelGoogle", "models/gemini-1.5-pro-002", false},
		{"TenantID", "tn_AbCdEf0123456789", false},
		{"KeyID", "pk_Zz09Yy18Xx27Ww36", false},
		{"RequestID", "req_0123456789abcdef01234567", false},
		{"Provider", "openai", false},
		{"Empty", "", false},
		// Shapes of keys and tokens.
		{"Canary", testkit.CanaryOpenAIKey, true},
		{"CanaryMarker", testkit.CanaryMarker, true},
		{"CanaryInside", "model=" + testkit.CanaryOpenAIKey, true},
		{"OpenAIProject", "sk-proj-abc", true},
		{"Anthropic", "sk-ant-api03-abc", true},
		{"ElevenLabs", "sk_0123", true},
		{"GatewayToken", "kg_abc", true},
		{"AdminToken", "kga_abc", true},
		{"Google", "AIzaSyA-0123", true},
		{"Bearer", "Bearer abc", true},
		{"HexRun32", "0123456789abcdef0123456789abcdef", true},
		{"MixedRun20", "aB3dE6gH9jK2mN5pQ8sT", true},
		{"UUID", "exa 8c5d1f3e-1a2b-4c3d-9e8f-0123456789ab", true},
		{"TooLong", strings.Repeat("a-", 101), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := metrics.LooksSecret(tc.in); got != tc.want {
				t.Errorf("LooksSecret(%q) = %t, want %t", tc.in, got, tc.want)
			}
			want := tc.in
			if tc.want {
				want = metrics.Redacted
			}
			if got := metrics.Scrub(tc.in); got != want {
				t.Errorf("Scrub(%q) = %q, want %q", tc.in, got, want)
			}
		})
	}
}
