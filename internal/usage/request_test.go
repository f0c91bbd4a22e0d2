package usage_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/usage"
)

func TestIncludeUsage(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		want      string
		wantAdded bool
	}{
		{"StreamWithoutOptions", `{"model":"gpt-4o","stream":true,"messages":[]}`,
			`{"stream_options":{"include_usage":true},"model":"gpt-4o","stream":true,"messages":[]}`, true},
		{"StreamWithoutOptionsLeadingSpace", ` { "stream" : true }`,
			` {"stream_options":{"include_usage":true}, "stream" : true }`, true},
		{"StreamWithOtherOptions", `{"stream":true,"stream_options":{"include_obfuscation":false},"model":"m"}`,
			`{"model":"m","stream":true,"stream_options":{"include_obfuscation":false,"include_usage":true}}`, true},
		{"StreamWithUsageFalse", `{"stream":true,"stream_options":{"include_usage":false}}`,
			`{"stream":true,"stream_options":{"include_usage":true}}`, true},
		{"StreamOptionsNull", `{"stream":true,"stream_options":null}`,
			`{"stream":true,"stream_options":{"include_usage":true}}`, true},
		{"AlreadyAsked", `{"stream":true,"stream_options":{"include_usage":true}}`,
			`{"stream":true,"stream_options":{"include_usage":true}}`, false},
		{"NotAStream", `{"model":"gpt-4o","messages":[]}`, `{"model":"gpt-4o","messages":[]}`, false},
		{"StreamFalse", `{"stream":false}`, `{"stream":false}`, false},
		{"StreamNotBool", `{"stream":"yes"}`, `{"stream":"yes"}`, false},
		{"StreamOptionsNotObject", `{"stream":true,"stream_options":1}`, `{"stream":true,"stream_options":1}`, false},
		{"NotJSON", `stream=true`, `stream=true`, false},
		{"JSONArray", `[{"stream":true}]`, `[{"stream":true}]`, false},
		{"Null", `null`, `null`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, added := usage.IncludeUsage([]byte(tc.body))
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if added != tc.wantAdded {
				t.Errorf("added = %v, want %v", added, tc.wantAdded)
			}
		})
	}
}
