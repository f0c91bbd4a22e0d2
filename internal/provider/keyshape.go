// SPDX-License-Identifier: Apache-2.0

package provider

import (
	"strings"

	"github.com/keygate/keygate"
)

// Redacted replaces a value that LooksLikeKey wherever it would be logged,
// stored or echoed.
const Redacted = "[redacted]"

// LooksLikeKey reports whether s, a string a caller controls (a path
// segment, a query value, a model name, a field name), has the shape of a
// credential rather than of a name or an id: it starts with the prefix of a
// key format in the catalog or of a known token ("sk-", "AIza", "kg_",
// "eyJ", "Bearer ") and has more after it; or it holds a run of 32 or more
// letters and digits, or of 20 or more that mixes upper case, lower case and
// digits; or a UUID; or it is longer than 200 bytes. keygate's own ids
// (tn_ + 24 hex digits, req_...), the catalog's provider and model names
// never match; random-looking object ids of providers may, and are then
// treated as keys: a false alarm costs a redacted log field, a miss a key.
func (c *Catalog) LooksLikeKey(s string) bool {
	if len(s) > 200 {
		return true
	}
	if s != "" && c.keyFirst[s[0]] {
		for _, pre := range c.keyPrefixes {
			if len(s) > len(pre) && strings.HasPrefix(s, pre) {
				return true
			}
		}
	}
	if len(s) < 20 {
		return false // too short for a secret run or a UUID
	}
	return keygate.HasSecretBody(s)
}

// tokenPrefixes are the starts of credentials that are not provider keys
// of the catalog: keygate's own tokens, other issuers' tokens, JWTs and
// Authorization schemes pasted whole.
func tokenPrefixes() []string {
	return []string{
		"kg_", "kga_", "sk_", "xai-", "pplx-", "hf_", "r8_", "ghp_", "github_pat_", "eyJ",
		"Bearer ", "bearer ", "Basic ", "basic ",
	}
}

// Redact returns s, or Redacted when s LooksLikeKey.
func (c *Catalog) Redact(s string) string {
	if c.LooksLikeKey(s) {
		return Redacted
	}
	return s
}

// RedactModel returns a model name as a caller sent it, or Redacted when
// it, or one of its "/"-separated parts ("openai/sk-..."), LooksLikeKey: a
// key pasted into the model field is never stored or shown.
func (c *Catalog) RedactModel(s string) string {
	// Each "/"-part is judged whole (a string without "/" is its own one
	// part); only the length rule needs the whole string.
	if len(s) > 200 || c.pathHasKey(s) {
		return Redacted
	}
	return s
}

// RedactPath returns an URL path with every segment that LooksLikeKey
// replaced by Redacted (a key pasted into a path, "/v1/sk-.../x"). A
// segment is also judged by its part before a ':' ("name:action").
func (c *Catalog) RedactPath(p string) string {
	if !c.pathHasKey(p) {
		return p // the common case allocates nothing
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if c.segmentIsKey(s) {
			segs[i] = Redacted
		}
	}
	return strings.Join(segs, "/")
}

func (c *Catalog) pathHasKey(p string) bool {
	for s := range strings.SplitSeq(p, "/") {
		if c.segmentIsKey(s) {
			return true
		}
	}
	return false
}

func (c *Catalog) segmentIsKey(s string) bool {
	if c.LooksLikeKey(s) {
		return true
	}
	head, _, ok := strings.Cut(s, ":")
	return ok && c.LooksLikeKey(head)
}

// MayEcho reports whether s, a value a caller typed (an unknown provider
// or tenant name, a field name), may be repeated in an error message: it is
// shorter than the shortest key any provider of the catalog accepts, made
// only of letters, digits and "_.-", and does not LooksLikeKey. Anything
// else is named by its field only.
func (c *Catalog) MayEcho(s string) bool {
	if s == "" || len(s) >= c.minKeyLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-' || b == '.') {
			return false
		}
	}
	return !c.LooksLikeKey(s)
}
