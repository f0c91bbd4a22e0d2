// SPDX-License-Identifier: Apache-2.0

package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/keygate/keygate"
)

// tokenScopeJSON is a gateway token's scope as the API shows it: empty
// lists and null limits restrict nothing.
type tokenScopeJSON struct {
	Providers     []string `json:"providers"`
	Models        []string `json:"models"`
	DailyUSD      *usd     `json:"daily_usd"`
	MonthlyUSD    *usd     `json:"monthly_usd"`
	DailyTokens   *int64   `json:"daily_tokens"`
	MonthlyTokens *int64   `json:"monthly_tokens"`
	RPM           int64    `json:"rpm"`
	TPM           int64    `json:"tpm"`
}

func toTokenScopeJSON(s keygate.TokenScope) tokenScopeJSON {
	out := tokenScopeJSON{Providers: s.Providers, Models: s.Models, DailyTokens: s.DailyTokens, MonthlyTokens: s.MonthlyTokens,
		RPM: s.RPM, TPM: s.TPM}
	if out.Providers == nil {
		out.Providers = []string{}
	}
	if out.Models == nil {
		out.Models = []string{}
	}
	if s.DailyUSDMicros != nil {
		v := usd(*s.DailyUSDMicros)
		out.DailyUSD = &v
	}
	if s.MonthlyUSDMicros != nil {
		v := usd(*s.MonthlyUSDMicros)
		out.MonthlyUSD = &v
	}
	return out
}

// tokenScopeRequest is a scope in a request body. The limits are read raw
// and checked one by one, as the budget's are, so that a bad value is
// answered with its field.
type tokenScopeRequest struct {
	Providers     []string        `json:"providers"`
	Models        []string        `json:"models"`
	DailyUSD      json.RawMessage `json:"daily_usd"`
	MonthlyUSD    json.RawMessage `json:"monthly_usd"`
	DailyTokens   json.RawMessage `json:"daily_tokens"`
	MonthlyTokens json.RawMessage `json:"monthly_tokens"`
	RPM           int64           `json:"rpm"`
	TPM           int64           `json:"tpm"`
}

// scope checks r and returns the scope it asks for: providers must be in
// the catalog (unknown_provider), repeats are dropped, and the rest must
// pass keygate.TokenScope.Validate (invalid_request naming the field).
func (a *API) scope(r *tokenScopeRequest) (keygate.TokenScope, error) {
	var s keygate.TokenScope
	var err error
	if s.DailyUSDMicros, err = usdField("daily_usd", r.DailyUSD); err != nil {
		return s, err
	}
	if s.MonthlyUSDMicros, err = usdField("monthly_usd", r.MonthlyUSD); err != nil {
		return s, err
	}
	if s.DailyTokens, err = tokensField("daily_tokens", r.DailyTokens); err != nil {
		return s, err
	}
	if s.MonthlyTokens, err = tokensField("monthly_tokens", r.MonthlyTokens); err != nil {
		return s, err
	}
	names := a.d.Providers.Names()
	for _, p := range r.Providers {
		if !slices.Contains(names, p) {
			return s, keygate.Errorf(keygate.CodeUnknownProvider, "Unknown provider %s in providers.", a.ref(p))
		}
		if !slices.Contains(s.Providers, p) {
			s.Providers = append(s.Providers, p)
		}
	}
	for _, m := range r.Models {
		if stem := strings.TrimSuffix(m, "*"); a.d.Providers.RedactModel(stem) != stem {
			// Stored and shown as it is: a key pasted here would be kept
			// in the clear.
			return s, keygate.Errorf(keygate.CodeInvalidRequest, "models: an entry looks like a provider key; a scope lists model ids, and keys are stored with PUT .../keys/{provider}.")
		}
		if !slices.Contains(s.Models, m) {
			s.Models = append(s.Models, m)
		}
	}
	s.RPM, s.TPM = r.RPM, r.TPM
	return s, s.Validate()
}

// handleGatewayTokenScope replaces a gateway token's scope (PUT
// .../tokens/{id}/scope; an empty object clears it) and answers with the
// token, never its secret. The gateway serves the token's next call under
// the new scope.
func (a *API) handleGatewayTokenScope(c *call) (int, any, error) {
	id := c.r.PathValue("id")
	var req tokenScopeRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	s, err := a.scope(&req)
	if err != nil {
		return 0, nil, err
	}
	ev := c.event(c.tenant.ID, keygate.ActionTokenScoped)
	detail, _ := json.Marshal(map[string]any{"kind": "gateway", "token_id": id, "scope": toTokenScopeJSON(s)})
	ev.Detail = string(detail)
	t, err := a.d.Store.SetGatewayTokenScope(c.r.Context(), c.tenant.ID, id, s, ev)
	if err != nil {
		return 0, nil, a.notFoundRef(err, "Gateway token %s does not exist or is revoked.", id)
	}
	return http.StatusOK, toGatewayTokenJSON(t), nil
}
