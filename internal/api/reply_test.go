// SPDX-License-Identifier: Apache-2.0

package api_test

import (
	"net/http/httptest"
	"testing"

	"github.com/keygate/keygate/internal/api"
)

func TestWriteJSON(t *testing.T) {
	tests := []struct {
		name       string
		v          any
		wantStatus int
		wantBody   string
	}{
		{"Object", map[string]string{"url": "a<b>&c"}, 201, `{"url":"a<b>&c"}` + "\n"},
		{"Unencodable", map[string]any{"f": func() {}}, 500, `{"error":{"code":"internal","message":"Internal error."}}` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			api.WriteJSON(w, 201, tc.v)
			if w.Code != tc.wantStatus || w.Body.String() != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Body.String(), tc.wantStatus, tc.wantBody)
			}
			if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("headers: %v", w.Header())
			}
		})
	}
}
