// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/server"
)

// TestBodyDeadline: an answer that outlasts the body deadline is not cut,
// with or without a body; a body still arriving at the deadline is
// answered 408 request_timeout, also by a handler that answers nothing.
func TestBodyDeadline(t *testing.T) {
	const limit = 100 * time.Millisecond
	gateway := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			return // answers nothing, as a proxy that took it for a client gone
		}
		// Answer after the deadline has passed; the request must still
		// be live.
		select {
		case <-r.Context().Done():
			return
		case <-time.After(3 * limit):
		}
		_, _ = io.WriteString(w, "answered")
	})
	srv := httptest.NewServer(server.New(server.Deps{
		Gateway: gateway, GatewayPrefixes: []string{"/v1/"},
		Ready:           func(context.Context) error { return nil },
		BodyReadTimeout: limit,
	}))
	defer srv.Close()

	tests := []struct {
		name       string
		method     string
		body       io.Reader
		wantStatus int
		wantBody   string
	}{
		{"NoBodyLongAnswer", "GET", nil, 200, "answered"},
		{"BodyLongAnswer", "POST", strings.NewReader(`{"model":"m"}`), 200, "answered"},
		{"BodyNeverEnds", "POST", trickleReader{}, 408, `"code":"request_timeout"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+"/v1/chat/completions", tc.body)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus || !strings.Contains(string(b), tc.wantBody) {
				t.Fatalf("got %d %q, want %d with %q", resp.StatusCode, b, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

// trickleReader is a body that never ends: one byte every 10ms, so that
// only a deadline on the whole body stops it (the transport stops reading
// it when the server closes the connection).
type trickleReader struct{}

func (trickleReader) Read(p []byte) (int, error) {
	time.Sleep(10 * time.Millisecond) // pacing of a slow client, not an assertion
	p[0] = ' '
	return 1, nil
}
