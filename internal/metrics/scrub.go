// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"strings"

	"github.com/keygate/keygate"
)

// Redacted replaces a value that LooksSecret.
const Redacted = "[redacted]"

// LooksSecret reports whether s has the shape of a credential rather than
// of a name or an id: a known key or token prefix, a run of 32 or more
// letters and digits, a run of 20 or more that mixes upper case, lower case
// and digits, a UUID, or more than 200 characters. It is defence in depth
// for strings a caller controls (the model name): keygate's own ids (tn_,
// pk_, req_) and the catalog's names and model names never match.
func LooksSecret(s string) bool {
	if len(s) > 200 {
		return true
	}
	// Prefixes of provider keys and tokens that keygate or its providers
	// issue. A model name or an id never starts with one. (A local array:
	// it stays on the stack.)
	prefixes := [...]string{
		"sk-", "sk_", "kg_", "kga_", "AIza", "xai-", "gsk_", "pplx-", "hf_", "r8_",
		"ghp_", "github_pat_", "eyJ", "Bearer ", "bearer ", "Basic ", "basic ",
	}
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return keygate.HasSecretBody(s)
}

// Scrub returns s, or Redacted when s LooksSecret. Use it on any
// caller-supplied string bound for a log line or a span (the model name).
func Scrub(s string) string {
	if LooksSecret(s) {
		return Redacted
	}
	return s
}
