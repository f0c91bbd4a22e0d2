// SPDX-License-Identifier: Apache-2.0

package keygate_test

import (
	"testing"

	"github.com/keygate/keygate"
)

func TestTokenScopeAllows(t *testing.T) {
	s := keygate.TokenScope{Providers: []string{"openai", "groq"}, Models: []string{"gpt-4o*", "llama-3.1-8b-instant", "openai/o3"}}
	tests := []struct {
		name, provider, model   string
		wantProvider, wantModel bool
	}{
		{"PrefixMatch", "openai", "gpt-4o-mini", true, true},
		{"PrefixItself", "openai", "gpt-4o", true, true},
		{"PrefixWithProvider", "openai", "openai/gpt-4o-mini", true, true},
		{"NotThePrefix", "openai", "gpt-4-turbo", true, false},
		{"PrefixNotInside", "openai", "ft:gpt-4o-mini", true, false},
		{"Exact", "groq", "llama-3.1-8b-instant", true, true},
		{"ExactWithProvider", "groq", "groq/llama-3.1-8b-instant", true, true},
		{"ExactIsNotPrefix", "groq", "llama-3.1-8b-instant-2", true, false},
		{"EntryWithProvider", "openai", "openai/o3", true, true},
		{"OtherProvidersPrefixIsNotStripped", "groq", "openai/gpt-4o", true, false},
		{"NoModel", "openai", "", true, false},
		{"ProviderOutside", "anthropic", "claude-sonnet-4-5", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.AllowsProvider(tc.provider); got != tc.wantProvider {
				t.Errorf("AllowsProvider(%q) = %v", tc.provider, got)
			}
			if got := s.AllowsModel(tc.provider, tc.model); got != tc.wantModel {
				t.Errorf("AllowsModel(%q, %q) = %v", tc.provider, tc.model, got)
			}
		})
	}
	var zero keygate.TokenScope
	if !zero.IsZero() || !zero.AllowsProvider("x") || !zero.AllowsModel("x", "") || zero.HasLimits() {
		t.Error("the zero scope restricts something")
	}
}

func TestTokenScopeValidate(t *testing.T) {
	neg := int64(-1)
	many := make([]string, keygate.MaxScopeEntries+1)
	for i := range many {
		many[i] = "m"
	}
	tests := []struct {
		name string
		s    keygate.TokenScope
		ok   bool
	}{
		{"Zero", keygate.TokenScope{}, true},
		{"Full", keygate.TokenScope{Providers: []string{"openai"}, Models: []string{"gpt-4o*", "x"}, RPM: 1, TPM: 2}, true},
		{"StarAlone", keygate.TokenScope{Models: []string{"*"}}, true},
		{"StarInside", keygate.TokenScope{Models: []string{"gpt-*-mini"}}, false},
		{"EmptyModel", keygate.TokenScope{Models: []string{""}}, false},
		{"SpaceInModel", keygate.TokenScope{Models: []string{"gpt 4o"}}, false},
		{"UpperProvider", keygate.TokenScope{Providers: []string{"OpenAI"}}, false},
		{"TooManyModels", keygate.TokenScope{Models: many}, false},
		{"NegativeBudget", keygate.TokenScope{MonthlyUSDMicros: &neg}, false},
		{"NegativeTPM", keygate.TokenScope{TPM: -5}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tc.ok)
			}
			if err != nil && keygate.ErrorCode(err) != keygate.CodeInvalidRequest {
				t.Errorf("code %q", keygate.ErrorCode(err))
			}
		})
	}
}
