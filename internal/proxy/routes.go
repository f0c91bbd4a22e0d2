// SPDX-License-Identifier: Apache-2.0

package proxy

import (
	"net/http"
	"strings"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/provider"
)

// openAI serves an OpenAI-compatible endpoint: the model picks the
// provider (gpt-* → openai, claude-* → anthropic, gemini-* → google,
// provider/model → that provider), whose OpenAI-compatible API gets the
// call.
func (p *Proxy) openAI(route, endpoint string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := p.begin(w, r, route, dialectOpenAI)
		if c == nil {
			return
		}
		body, err := p.readBody(r)
		if err != nil {
			p.fail(w, r, c, err)
			return
		}
		h, err := parseHead(body)
		if err != nil {
			p.fail(w, r, c, err)
			return
		}
		if err := p.bodyEndUser(c, h.User, "the body's user"); err != nil {
			p.fail(w, r, c, err)
			return
		}
		name, upstreamModel, ok := p.d.Catalog.Route(h.Model)
		if !ok {
			p.fail(w, r, c, keygate.Errorf(keygate.CodeUnknownModel, "No provider serves model %q: use a model name of a known provider, or provider/model (providers: %s).", truncate(p.d.Catalog.RedactModel(h.Model), 80), strings.Join(p.d.Catalog.Names(), ", ")))
			return
		}
		prov := p.providers[name]
		if prov.OpenAICompatPath == "" {
			p.fail(w, r, c, keygate.Errorf(keygate.CodeInvalidRequest, "%s has no OpenAI-compatible API; call it through /%s/... instead.", prov.DisplayName, prov.Name))
			return
		}
		// A "provider/model" name goes upstream as the provider's own
		// name. A stream asks for the final usage chunk so that it can be
		// metered; if the caller did not ask for it, it is removed again
		// from what the caller receives.
		askUsage := route == "chat" && h.Stream && prov.StreamUsage
		body, c.stripUsage = editBody(body, &h, upstreamModel, upstreamModel != h.Model, askUsage)
		c.provider, c.body, c.model = prov, body, h.Model
		c.maxOut, c.hasMaxOut = h.MaxOut, h.HasMaxOut
		c.path = prov.OpenAICompatPath + endpoint
		c.usage = provider.UsageOpenAI // the OpenAI shape, whichever provider answers
		p.forward(w, r, c)
	}
}

// anthropic serves Anthropic's native Messages API.
func (p *Proxy) anthropic(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := p.begin(w, r, "messages", dialectAnthropic)
		if c == nil {
			return
		}
		body, err := p.readBody(r)
		if err != nil {
			p.fail(w, r, c, err)
			return
		}
		h, err := parseHead(body)
		if err != nil {
			p.fail(w, r, c, err)
			return
		}
		if err := p.bodyEndUser(c, h.MetaUser, "the body's metadata.user_id"); err != nil {
			p.fail(w, r, c, err)
			return
		}
		prov, ok := p.providers["anthropic"]
		if !ok {
			p.fail(w, r, c, keygate.Errorf(keygate.CodeUnknownProvider, "The anthropic provider is not in the catalog."))
			return
		}
		if model, ok := strings.CutPrefix(h.Model, "anthropic/"); ok {
			body, _ = editBody(body, &h, model, true, false)
		}
		c.provider, c.body, c.model = prov, body, h.Model
		c.maxOut, c.hasMaxOut = h.MaxOut, h.HasMaxOut
		c.path = path
		c.usage = provider.UsageAnthropic
		p.forward(w, r, c)
	}
}

// passthrough forwards /{provider}/rest as rest on the provider's API,
// unchanged but for the credentials, so every endpoint of every catalog
// provider (search, voice, native APIs) works. The body is streamed, not
// read.
func (p *Proxy) passthrough(name string) http.HandlerFunc {
	prov := p.providers[name]
	return func(w http.ResponseWriter, r *http.Request) {
		c := p.begin(w, r, "passthrough", dialectOpenAI)
		if c == nil {
			return
		}
		rest := strings.TrimPrefix(r.URL.Path, "/"+name)
		if !safePath(rest) || !safePath(r.URL.RawPath) {
			p.fail(w, r, c, keygate.Errorf(keygate.CodeInvalidRequest, "The path may not contain '..' segments."))
			return
		}
		if r.ContentLength > p.d.MaxBodyBytes {
			p.fail(w, r, c, keygate.Errorf(keygate.CodeBodyTooLarge, "The request body is larger than %d bytes.", p.d.MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, p.d.MaxBodyBytes)
		c.provider, c.path, c.usage = prov, rest, prov.Usage
		p.forward(w, r, c)
	}
}

// safePath reports whether an upstream path stays under the provider's base
// path: no "." or ".." segments, also percent-encoded, and no backslashes.
func safePath(p string) bool {
	l := strings.ToLower(p)
	if strings.Contains(l, "%2e") || strings.Contains(l, "%2f") || strings.Contains(l, "%5c") || strings.Contains(p, "\\") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
