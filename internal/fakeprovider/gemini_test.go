// SPDX-License-Identifier: Apache-2.0

package fakeprovider_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGeminiNative(t *testing.T) {
	s := MustStart(t)
	p := MustLookup(t, "google")
	body := map[string]any{"contents": []any{map[string]any{"role": "user", "parts": []any{map[string]any{"text": "hello gemini"}}}}}
	status, _, got := MustDo(t, s, p, "POST", "/v1beta/models/gemini-2.5-flash:generateContent", testKeys["google"], body, nil)
	if status != 200 {
		t.Fatalf("status %d: %v", status, got)
	}
	want := map[string]any{"promptTokenCount": float64(2), "candidatesTokenCount": float64(11), "totalTokenCount": float64(13)}
	if diff := cmp.Diff(want, got["usageMetadata"]); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	status, _, models := MustDo(t, s, p, "GET", "/v1beta/models", testKeys["google"], nil, nil)
	if status != 200 || len(models["models"].([]any)) != 2 {
		t.Errorf("models: %d %v", status, models)
	}
}
