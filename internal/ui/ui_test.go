// SPDX-License-Identifier: Apache-2.0

package ui_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/ui"
)

// MustGet serves one request through the console handler.
func MustGet(tb testing.TB, method, target string) *http.Response {
	tb.Helper()
	rec := httptest.NewRecorder()
	ui.Handler().ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec.Result()
}

// MustIndexAsset returns the path of the first built asset with the given
// extension that index.html references.
func MustIndexAsset(tb testing.TB, ext string) string {
	tb.Helper()
	b, err := os.ReadFile("dist/index.html")
	if err != nil {
		tb.Fatalf("read dist/index.html: %v (build the console: go generate ./internal/ui)", err)
	}
	m := regexp.MustCompile(`"(/assets/[^"]+\` + ext + `)"`).FindSubmatch(b)
	if m == nil {
		tb.Fatalf("dist/index.html references no %s asset", ext)
	}
	return string(m[1])
}

func TestHandler(t *testing.T) {
	js := MustIndexAsset(t, ".js")
	css := MustIndexAsset(t, ".css")
	type want struct {
		Status       int
		ContentType  string
		CacheControl string
		IsIndex      bool
	}
	index := want{Status: 200, ContentType: "text/html; charset=utf-8", CacheControl: "no-cache", IsIndex: true}
	notFound := want{Status: 404, ContentType: "application/json", CacheControl: "no-store"}
	tests := []struct {
		name, method, path string
		want               want
	}{
		{"root", "GET", "/", index},
		{"index by name", "GET", "/index.html", index},
		{"head of root", "HEAD", "/", want{Status: 200, ContentType: "text/html; charset=utf-8", CacheControl: "no-cache"}},
		{"console path falls back to index", "GET", "/tenants/acme/keys", index},
		{"script", "GET", js, want{Status: 200, ContentType: "text/javascript; charset=utf-8", CacheControl: "public, max-age=31536000, immutable"}},
		{"stylesheet", "GET", css, want{Status: 200, ContentType: "text/css; charset=utf-8", CacheControl: "public, max-age=31536000, immutable"}},
		{"missing asset", "GET", "/assets/missing.js", notFound},
		{"missing file with extension", "GET", "/favicon.ico", notFound},
		{"unknown api path", "GET", "/api/v2/tenants", notFound},
		{"dot dot stays inside", "GET", "/../../go.mod", notFound},
		{"post refused", "POST", "/", want{Status: 405, ContentType: "application/json", CacheControl: "no-store"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := MustGet(t, tt.method, tt.path)
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			got := want{
				Status:       res.StatusCode,
				ContentType:  res.Header.Get("Content-Type"),
				CacheControl: res.Header.Get("Cache-Control"),
				IsIndex:      strings.Contains(string(body), `<main id="app">`),
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s %s (-want +got):\n%s", tt.method, tt.path, diff)
			}
		})
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
			"frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	}
	for _, tt := range []struct{ name, method, path string }{
		{"index", "GET", "/"},
		{"fallback", "GET", "/usage"},
		{"asset", "GET", MustIndexAsset(t, ".js")},
		{"not found", "GET", "/nope.png"},
		{"method not allowed", "DELETE", "/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := MustGet(t, tt.method, tt.path)
			got := map[string]string{}
			for k := range want {
				got[k] = res.Header.Get(k)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBuiltFilesAreSelfContained checks the committed build: no request may
// leave the origin (no CDN, no web font, no absolute URL other than the SVG
// namespace), and index.html holds no inline script or style, which the
// Content-Security-Policy would block.
func TestBuiltFilesAreSelfContained(t *testing.T) {
	allowed := map[string]bool{"http://www.w3.org/2000/svg": true}
	url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^"'\s)` + "`" + `;]*`)
	var files int
	err := filepath.WalkDir("dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range url.FindAllString(string(b), -1) {
			if !allowed[m] {
				t.Errorf("%s: external URL %q", p, m)
			}
		}
		for _, bad := range []string{"@import", "@font-face", "fonts.googleapis", "cdn."} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s contains %q", p, bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Fatalf("dist has %d files; want index.html, a script and a stylesheet", files)
	}
	index, err := os.ReadFile("dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAll(index, -1) {
		if !strings.Contains(string(tag), " src=") {
			t.Errorf("dist/index.html has an inline script %s: the CSP blocks it", tag)
		}
	}
	for _, re := range []string{`<script[^>]*>\s*[^<\s]`, `\sstyle=`, `<style`, `\son[a-z]+=`} {
		if regexp.MustCompile(re).Match(index) {
			t.Errorf("dist/index.html matches %s: inline script or style is blocked by the CSP", re)
		}
	}
}
