// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/reqid"
	"github.com/keygate/keygate/internal/server"
	"github.com/keygate/keygate/internal/testkit"
)

// TestAccessLogRedactsKeys: a key in a path segment, in the query string
// or in the model name never reaches the access log; the rest of the path
// does.
func TestAccessLogRedactsKeys(t *testing.T) {
	cat, err := provider.Default()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	gateway := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := reqid.InfoFrom(r.Context())
		info.Provider, info.Model = "openai", r.URL.Query().Get("model")
		w.WriteHeader(http.StatusNotFound)
	})
	h := server.New(server.Deps{
		Gateway: gateway, GatewayPrefixes: []string{"/v1/", "/google/"},
		Ready:  func(context.Context) error { return nil },
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Scrub:  cat.Redact, RedactPath: cat.RedactPath,
	})
	key := testkit.CanaryOpenAIKey
	for _, target := range []string{
		"/v1/" + key + "/chat",
		"/google/v1beta/models/" + url.PathEscape(key) + ":generateContent",
		"/v1/chat/completions?key=" + url.QueryEscape(key) + "&model=" + url.QueryEscape(key),
		"/api/v1/tenants/" + key + "/keys",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	}
	testkit.AssertNoCanary(t, "the access log", logs.Bytes())
	for _, want := range []string{`"path":"/v1/[redacted]/chat"`, `"path":"/google/v1beta/models/[redacted]"`, `"path":"/v1/chat/completions"`, `"model":"[redacted]"`, `"path":"/api/v1/tenants/[redacted]/keys"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("access log lacks %s:\n%s", want, logs.String())
		}
	}
}
