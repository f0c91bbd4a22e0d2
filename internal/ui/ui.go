// SPDX-License-Identifier: Apache-2.0

// Package ui serves keygate's web console: the files Vite builds from web/
// into dist/, embedded in the binary so that `go build` alone yields a
// server with its console. Rebuild them with `go generate ./internal/ui`
// (which runs npm in web/) and commit the result.
//
// Every answer carries a strict Content-Security-Policy (scripts, styles and
// connections from this origin only; no framing), nosniff and
// no-referrer. The console authenticates with an admin token it keeps in
// memory and sends as a Bearer header; no cookie is involved, so there is no
// ambient credential for a cross-site request to use.
package ui

//go:generate npm --prefix ../../web ci --no-audit --no-fund
//go:generate npm --prefix ../../web run build

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed dist
var embedded embed.FS

// ContentSecurityPolicy is the policy sent with every console response.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

// Handler returns the console's handler, meant to be mounted at "/" below
// the API and gateway routes. It answers GET and HEAD only (405 otherwise):
// an embedded file by its path; index.html for "/" and for any other path
// without a file extension (so a reload of a console URL works); 404 for a
// missing file with an extension or a path under /api/, as JSON in the API's
// error shape.
func Handler() http.Handler {
	dist, err := fs.Sub(embedded, "dist")
	if err != nil {
		// dist is embedded at compile time; fs.Sub fails only on an invalid
		// name, which "dist" is not.
		panic("ui: " + err.Error())
	}
	return &handler{files: dist}
}

type handler struct {
	files fs.FS
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "The console answers GET and HEAD only.")
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" || name == "index.html" {
		h.serve(w, r, "index.html")
		return
	}
	if st, err := fs.Stat(h.files, name); err == nil && !st.IsDir() {
		h.serve(w, r, name)
		return
	}
	if strings.HasPrefix(name, "api/") || path.Ext(name) != "" {
		writeError(w, http.StatusNotFound, "not_found", "No such endpoint.")
		return
	}
	h.serve(w, r, "index.html")
}

// serve writes one embedded file. Files under assets/ have content hashes in
// their names and are cached for a year; index.html is revalidated every time
// so a new build is picked up at once.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, name string) {
	b, err := fs.ReadFile(h.files, name)
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", "No such endpoint.")
		return
	}
	if strings.HasPrefix(name, "assets/") {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	// ServeContent sets Content-Type from the extension and handles HEAD
	// and ranges; embedded files have no modification time.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":{"code":"` + code + `","message":"` + msg + `"}}` + "\n"))
}
