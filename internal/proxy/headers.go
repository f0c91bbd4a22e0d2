package proxy

import (
	"net/http"
	"net/textproto"
	"strings"

	"github.com/keygate/keygate"
)

const (
	headerKeySource   = "X-Keygate-Key-Source"
	headerProviderKey = "X-Provider-Key"
)

// inboundStrip lists request headers never forwarded upstream, besides
// every provider's auth headers (Catalog.AuthHeaders): the caller's
// credentials and cookies, its request key, and headers that would let it
// steer the platform's account or the response encoding.
func inboundStrip() []string {
	return []string{
		headerProviderKey,
		"Cookie",
		"Proxy-Authorization",
		"Accept-Encoding", // the transport negotiates compression and decodes it, so usage can be read
		"Openai-Organization",
		"Openai-Project",
		"Forwarded",
		"X-Real-Ip",
	}
}

// outboundStrip lists response headers never returned to the caller:
// anything that echoes a credential or names the account behind a key.
func outboundStrip() []string {
	return []string{
		"Set-Cookie",
		"Openai-Organization",
		"Openai-Project",
		"Anthropic-Organization-Id",
		"Www-Authenticate",
	}
}

// cleanRequestHeader removes from h every header a caller may not pass to a
// provider: auth headers of every provider, keygate's own, and inboundStrip.
func (p *Proxy) cleanRequestHeader(h http.Header) {
	for _, k := range p.stripIn {
		delete(h, k)
	}
	for k := range h {
		if strings.HasPrefix(k, "X-Keygate-") {
			delete(h, k)
		}
	}
}

// cleanResponseHeader removes credentials and account details from a
// provider's response headers, and renames the provider's request id so it
// does not clash with keygate's.
func (p *Proxy) cleanResponseHeader(h http.Header) {
	for _, k := range p.stripOut {
		delete(h, k)
	}
	if v := h.Values("X-Request-Id"); len(v) > 0 {
		h["X-Upstream-Request-Id"] = v
		delete(h, "X-Request-Id")
	}
}

// gatewayToken returns the gateway token wherever the caller's SDK put it:
// Authorization: Bearer (OpenAI and Anthropic SDKs), x-api-key, x-goog-api-key,
// or the key query parameter (Google). fromQuery reports the last case, so
// the parameter is not forwarded.
func gatewayToken(r *http.Request) (tok keygate.Secret, fromQuery bool) {
	if v := r.Header.Get("Authorization"); v != "" {
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			return keygate.NewSecret(strings.TrimSpace(v[7:])), false
		}
		return keygate.Secret{}, false
	}
	for _, k := range []string{"X-Api-Key", "X-Goog-Api-Key"} {
		if v := r.Header.Get(k); v != "" {
			return keygate.NewSecret(strings.TrimSpace(v)), false
		}
	}
	if v := r.URL.Query().Get("key"); v != "" {
		return keygate.NewSecret(v), true
	}
	return keygate.Secret{}, false
}

func canonical(hs []string) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = textproto.CanonicalMIMEHeaderKey(h)
	}
	return out
}
