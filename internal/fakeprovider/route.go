// SPDX-License-Identifier: Apache-2.0

package fakeprovider

import (
	"net/http"
	"strings"

	"github.com/keygate/keygate/internal/provider"
)

// route answers an authorized request according to the provider's row:
// native dialect endpoints first, then the OpenAI-compatible API, then the
// key-test path, then an echo.
func (f *Fake) route(x *exchange) {
	m, path := x.r.Method, x.path
	switch x.p.Usage {
	case provider.UsageAnthropic:
		switch {
		case m == http.MethodPost && path == "/v1/messages":
			x.anthropicMessages()
			return
		case m == http.MethodPost && path == "/v1/messages/count_tokens":
			x.json(http.StatusOK, map[string]any{"input_tokens": readPrompt(x.body).words})
			return
		case m == http.MethodGet && path == "/v1/models":
			x.anthropicModels()
			return
		}
	case provider.UsageGemini:
		switch {
		case m == http.MethodGet && path == "/v1beta/models":
			x.geminiModels()
			return
		case m == http.MethodPost && strings.HasPrefix(path, "/v1beta/models/"):
			model, method, ok := strings.Cut(strings.TrimPrefix(path, "/v1beta/models/"), ":")
			if ok && (method == "generateContent" || method == "streamGenerateContent") {
				x.geminiGenerate(model, method == "streamGenerateContent")
				return
			}
		}
	}
	if cp := x.p.OpenAICompatPath; cp != "" && strings.HasPrefix(path, cp+"/") {
		switch sub := strings.TrimPrefix(path, cp); {
		case m == http.MethodPost && sub == "/chat/completions":
			x.openAIChat()
			return
		case m == http.MethodPost && sub == "/completions":
			x.openAICompletions()
			return
		case m == http.MethodPost && sub == "/embeddings":
			x.openAIEmbeddings()
			return
		case m == http.MethodPost && sub == "/responses":
			x.openAIResponses()
			return
		case m == http.MethodGet && sub == "/models":
			x.openAIModels()
			return
		}
	}
	if m == x.p.Probe.Method && path == x.p.Probe.Path {
		x.probe()
		return
	}
	x.echo()
}

// probe answers the catalog's key-test request with a success that has the
// expected field.
func (x *exchange) probe() {
	var v any
	switch x.p.Name {
	case "openrouter":
		v = map[string]any{"data": map[string]any{"label": "fake", "usage": 0, "limit": nil, "is_free_tier": false}}
	case "exa":
		v = map[string]any{"requestId": "req_fake", "results": []any{map[string]any{
			"id": "https://example.com/", "url": "https://example.com/", "title": "Example Domain",
		}}}
	case "deepgram":
		v = map[string]any{"projects": []any{map[string]any{"project_id": "proj_fake", "name": "fake"}}}
	case "elevenlabs":
		v = []any{map[string]any{"model_id": "eleven_multilingual_v2", "name": "Eleven Multilingual v2"}}
	default:
		if fld := x.p.Probe.SuccessField; fld != "" {
			var list []any
			for _, id := range x.echoIDs([]string{x.p.Name + "-fake-model"}) {
				list = append(list, map[string]any{"id": id})
			}
			v = map[string]any{fld: list}
		} else {
			v = map[string]any{"ok": true}
		}
	}
	x.json(x.p.Probe.SuccessStatus, v)
}

// echo answers any other request with what the fake received, so tests of
// the raw /{provider}/... passthrough can check the method, path, query and
// body that arrived. Auth headers are never echoed, the key only in echo
// mode (Echo.Body).
func (x *exchange) echo() {
	var body any = x.body
	if len(x.rawBody) == 0 {
		body = nil
	}
	v := map[string]any{
		"fake":       true,
		"provider":   x.p.Name,
		"method":     x.r.Method,
		"path":       x.path,
		"query":      x.r.URL.RawQuery,
		"body":       body,
		"body_bytes": len(x.rawBody),
	}
	if x.reflect.Body {
		v["echo"] = echoText(x.key)
	}
	x.json(http.StatusOK, v)
}
