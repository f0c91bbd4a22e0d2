// SPDX-License-Identifier: Apache-2.0

package resolver

import (
	"strings"

	"github.com/keygate/keygate"
)

// maxListed is how many entries of a scope a refusal lists.
const maxListed = 10

// CheckScope reports whether the caller's token may call model (as the
// caller sent it; "" when the call names none) of provider: nil when it
// may, else 403 token_scope_provider or token_scope_model. It is checked
// once the provider and model are known and before any key is read or the
// provider called. The message lists what the token may call, never the
// model as sent (which could be anything, a pasted key included).
func (c Caller) CheckScope(provider, model string) error {
	s := c.Scope
	if s == nil {
		return nil
	}
	if !s.AllowsProvider(provider) {
		return keygate.Errorf(keygate.CodeTokenScopeProvider, "This gateway token may not call %s; its scope allows: %s.", provider, listed(s.Providers))
	}
	if !s.AllowsModel(provider, model) {
		if model == "" {
			return keygate.Errorf(keygate.CodeTokenScopeModel, "This gateway token may call only some models, and this call names none; its scope allows: %s.", listed(s.Models))
		}
		return keygate.Errorf(keygate.CodeTokenScopeModel, "This gateway token may not call this model; its scope allows: %s.", listed(s.Models))
	}
	return nil
}

func listed(v []string) string {
	if len(v) > maxListed {
		return strings.Join(v[:maxListed], ", ") + ", ..."
	}
	return strings.Join(v, ", ")
}
