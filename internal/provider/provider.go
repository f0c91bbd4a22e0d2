// SPDX-License-Identifier: Apache-2.0

package provider

import (
	"net/http"
	"strings"

	"github.com/keygate/keygate"
)

// Kind is what a provider offers.
type Kind string

// Provider kinds.
const (
	KindLLM    Kind = "llm"    // chat, completions, embeddings
	KindSearch Kind = "search" // web search
	KindVoice  Kind = "voice"  // speech to text, text to speech
)

// UsageDialect names the shape in which a provider reports token usage in
// its responses, so the usage reader knows where to look.
type UsageDialect string

// Usage dialects.
const (
	UsageOpenAI    UsageDialect = "openai"    // "usage": {"prompt_tokens", "completion_tokens"}
	UsageAnthropic UsageDialect = "anthropic" // "usage": {"input_tokens", "output_tokens"}
	UsageGemini    UsageDialect = "gemini"    // "usageMetadata": {"promptTokenCount", ...}
	UsageNone      UsageDialect = "none"      // the provider reports no token usage
)

// KeyPlaceholder is the marker in an AuthScheme template that the key
// replaces.
const KeyPlaceholder = "{key}"

// Provider is one row of the catalog. Values returned by a Catalog are
// copies: changing one does not change the catalog.
type Provider struct {
	// Name is the stable identifier ("openai"): lowercase letters, digits
	// and '-'. It appears in URLs (/{provider}/...), key records and the
	// KEYGATE_<NAME>_BASE_URL variable.
	Name        string
	DisplayName string
	Kind        Kind
	// BaseURL is the scheme and host of the API, possibly with a path
	// prefix, never with a trailing slash ("https://api.openai.com"). Every
	// path in the catalog (Probe.Path, OpenAICompatPath) is relative to it,
	// as are the paths of the /{provider}/... passthrough.
	BaseURL string
	// Auth is how keygate injects a key into a request (SetAuth).
	Auth AuthScheme
	// AltAuth lists other schemes the provider also accepts
	// ("Authorization: Bearer {key}" for anthropic, whose SDK sends it, and
	// for google's OpenAI-compatible API). keygate never injects them, but
	// strips them (Catalog.AuthHeaders) and reads them (KeyFromHeader).
	AltAuth []AuthScheme
	// Headers are fixed headers the provider requires on every request
	// ("anthropic-version"); see ApplyHeaders.
	Headers map[string]string
	// KeyFormat is what a well-formed key of this provider looks like.
	KeyFormat KeyFormat
	// Probe is the cheapest request that tells whether a key is accepted.
	Probe Probe
	// OpenAICompatPath is the path under BaseURL where the provider serves
	// the OpenAI API shape ("/v1", "/v1beta/openai"): chat/completions,
	// models, ... live under it. Empty when the provider has none.
	OpenAICompatPath string
	// StreamUsage reports whether the provider's OpenAI-compatible API
	// accepts stream_options.include_usage, which keygate turns on for
	// streamed chat calls so they can be metered.
	StreamUsage bool
	// ModelPrefixes route a bare model name to this provider ("gpt-",
	// "claude-"); see Catalog.Route.
	ModelPrefixes []string
	// Usage is the dialect of token usage in the provider's responses.
	Usage UsageDialect
	// KeysURL is where a user creates a key, for help messages.
	KeysURL string
}

// AuthScheme is how a key is injected: header Header set to Template with
// "{key}" replaced by the key ("Authorization: Bearer {key}").
type AuthScheme struct {
	Header   string
	Template string
}

// KeyFormat describes a well-formed key. Prefixes lists the accepted
// prefixes (any one of them; none means no fixed prefix). Lengths are in
// bytes, inclusive. Charset is a regular-expression character class
// ("[A-Za-z0-9_-]") that every byte of the key must match.
type KeyFormat struct {
	Prefixes []string
	MinLen   int
	MaxLen   int
	Charset  string

	allowed [128]bool // compiled from Charset; ASCII only
}

// Probe is a request that tests a key: Method Path (with Body, if any, sent
// as JSON) succeeds with SuccessStatus and, when SuccessField is set, a JSON
// object answer that has that top-level field.
type Probe struct {
	Method        string
	Path          string
	Body          string
	SuccessStatus int
	SuccessField  string
}

// URL returns the provider's BaseURL joined with path, which must start
// with '/'.
func (p Provider) URL(path string) string { return p.BaseURL + path }

// OpenAICompatURL returns the URL of an endpoint of the provider's
// OpenAI-compatible API ("/chat/completions" → ".../v1/chat/completions"),
// and false when the provider has no such API.
func (p Provider) OpenAICompatURL(endpoint string) (string, bool) {
	if p.OpenAICompatPath == "" {
		return "", false
	}
	return p.BaseURL + p.OpenAICompatPath + endpoint, true
}

// SetAuth sets the provider's auth header on h from key, replacing any value
// already there. It is the one place where a key is revealed into a request.
func (p Provider) SetAuth(h http.Header, key keygate.Secret) {
	h.Set(p.Auth.Header, strings.Replace(p.Auth.Template, KeyPlaceholder, key.Reveal(), 1))
}

// AuthValue returns the value SetAuth would set, for callers that build
// headers another way. Treat the result as the key itself.
func (p Provider) AuthValue(key keygate.Secret) string {
	return strings.Replace(p.Auth.Template, KeyPlaceholder, key.Reveal(), 1)
}

// ApplyHeaders sets each of the provider's fixed headers on h unless the
// caller already sent it (a client SDK that pins its own
// "anthropic-version" keeps it).
func (p Provider) ApplyHeaders(h http.Header) {
	for k, v := range p.Headers {
		if h.Get(k) == "" {
			h.Set(k, v)
		}
	}
}

// KeyFromHeader extracts the key from h according to the provider's auth
// scheme, then its alternative schemes in order, and reports false when no
// header fits (absent, or a template mismatch such as another scheme word).
// The fake provider uses it to see which key reached it.
func (p Provider) KeyFromHeader(h http.Header) (keygate.Secret, bool) {
	for _, a := range append([]AuthScheme{p.Auth}, p.AltAuth...) {
		if k, ok := a.keyFrom(h); ok {
			return k, true
		}
	}
	return keygate.Secret{}, false
}

func (a AuthScheme) keyFrom(h http.Header) (keygate.Secret, bool) {
	v := h.Get(a.Header)
	if v == "" {
		return keygate.Secret{}, false
	}
	before, after, _ := strings.Cut(a.Template, KeyPlaceholder)
	// Scheme words ("Bearer", "Token") are case-insensitive in HTTP.
	if len(v) <= len(before)+len(after) ||
		!strings.EqualFold(v[:len(before)], before) ||
		!strings.EqualFold(v[len(v)-len(after):], after) {
		return keygate.Secret{}, false
	}
	return keygate.NewSecret(v[len(before) : len(v)-len(after)]), true
}

// clone returns a deep copy of p, so callers cannot change the catalog.
func (p Provider) clone() Provider {
	c := p
	if p.Headers != nil {
		c.Headers = make(map[string]string, len(p.Headers))
		for k, v := range p.Headers {
			c.Headers[k] = v
		}
	}
	c.AltAuth = append([]AuthScheme(nil), p.AltAuth...)
	c.KeyFormat.Prefixes = append([]string(nil), p.KeyFormat.Prefixes...)
	c.ModelPrefixes = append([]string(nil), p.ModelPrefixes...)
	return c
}
