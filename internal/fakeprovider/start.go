// SPDX-License-Identifier: Apache-2.0

package fakeprovider

import (
	"net/http/httptest"
	"sort"

	"github.com/keygate/keygate/internal/provider"
)

// TB is the part of testing.TB that Start needs; *testing.T and *testing.B
// satisfy it (the package does not import testing, so the binary can embed
// the fake).
type TB interface {
	Helper()
	Cleanup(func())
}

// Server is a Fake listening on a loopback port.
type Server struct {
	*Fake
	// URL is the server's root ("http://127.0.0.1:PORT"), without a
	// provider prefix.
	URL string
	srv *httptest.Server
}

// Start starts a Fake (see New for opts) on a loopback port and stops it
// when the test ends.
func Start(tb TB, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// NewServer starts a Fake (see New for opts) on a loopback port. The caller
// must Close it.
func NewServer(opts ...Option) *Server {
	f := New(opts...)
	srv := httptest.NewServer(f)
	return &Server{Fake: f, URL: srv.URL, srv: srv}
}

// Close releases stalled handlers, drops open connections and stops the
// server.
func (s *Server) Close() {
	s.Fake.Close()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// BaseURL returns the base URL that stands for the named provider
// ("http://127.0.0.1:PORT/openai"), the value for KEYGATE_OPENAI_BASE_URL.
func (s *Server) BaseURL(name string) string { return s.URL + "/" + name }

// BaseURLs returns BaseURL for every provider of the catalog, ready for
// provider.Catalog.WithBaseURLs.
func (s *Server) BaseURLs() map[string]string {
	out := map[string]string{}
	for _, n := range s.cat.Names() {
		out[n] = s.BaseURL(n)
	}
	return out
}

// Env returns KEYGATE_<PROVIDER>_BASE_URL=... for every provider, sorted,
// for a keygate process started by a test.
func (s *Server) Env() []string {
	var out []string
	for n, u := range s.BaseURLs() {
		out = append(out, provider.EnvBaseURL(n)+"="+u)
	}
	sort.Strings(out)
	return out
}
