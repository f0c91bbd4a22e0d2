// SPDX-License-Identifier: Apache-2.0

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
// Authorization: Bearer (OpenAI SDK), x-api-key (Anthropic SDK),
// x-goog-api-key or the key query parameter (Google). fromQuery reports
// the last case, so the parameter is not forwarded.
//
// Each SDK sends its key in one of these, once. A request that carries
// more than one (two Authorization headers, or a header and ?key=) is
// refused with invalid_request: keygate would authenticate one of them
// while a proxy in front of it, or the logs, may go by another. The
// X-Provider-Key header is a request key, not a gateway credential, and
// is not counted.
func gatewayToken(r *http.Request) (tok keygate.Secret, fromQuery bool, err error) {
	var carriers []string
	for _, k := range []string{"Authorization", "X-Api-Key", "X-Goog-Api-Key"} {
		switch vs := r.Header.Values(k); {
		case len(vs) > 1:
			return keygate.Secret{}, false, keygate.Errorf(keygate.CodeInvalidRequest, "The request has %d %s headers; send the gateway token once.", len(vs), k)
		case len(vs) == 1 && strings.TrimSpace(vs[0]) != "":
			carriers = append(carriers, k)
		}
	}
	switch vs := r.URL.Query()["key"]; {
	case len(vs) > 1:
		return keygate.Secret{}, false, keygate.Errorf(keygate.CodeInvalidRequest, "The request has %d key query parameters; send the gateway token once.", len(vs))
	case len(vs) == 1 && vs[0] != "":
		carriers = append(carriers, "the key query parameter")
	}
	switch {
	case len(carriers) > 1:
		return keygate.Secret{}, false, keygate.Errorf(keygate.CodeInvalidRequest, "The request carries a gateway credential in more than one place (%s); send the token in one of them only.", strings.Join(carriers, ", "))
	case len(carriers) == 0:
		return keygate.Secret{}, false, nil
	}
	switch carriers[0] {
	case "Authorization":
		v := r.Header.Get("Authorization")
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			return keygate.NewSecret(strings.TrimSpace(v[7:])), false, nil
		}
		return keygate.Secret{}, false, nil
	case "X-Api-Key", "X-Goog-Api-Key":
		return keygate.NewSecret(strings.TrimSpace(r.Header.Get(carriers[0]))), false, nil
	}
	return keygate.NewSecret(r.URL.Query().Get("key")), true, nil
}

func canonical(hs []string) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = textproto.CanonicalMIMEHeaderKey(h)
	}
	return out
}
