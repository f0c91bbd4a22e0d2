// SPDX-License-Identifier: Apache-2.0

package proxy

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// chatStreamBody is a streamed chat call named "provider/model", which
// gets both body edits.
var chatStreamBody = []byte(`{"model":"openai/gpt-4o","stream":true,"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}],"max_tokens":16}`)

// oracleRewriteModel is what the model edit replaced: a round trip of the
// body through a map.
func oracleRewriteModel(body []byte, model string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(model)
	m["model"] = b
	return json.Marshal(m)
}

// oracleIncludeUsage is what the usage edit replaced (it was
// usage.IncludeUsage): decode the body into a map, set
// stream_options.include_usage, encode it again.
func oracleIncludeUsage(body []byte) (out []byte, added bool) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		return body, false
	}
	var stream bool
	if err := json.Unmarshal(req["stream"], &stream); err != nil || !stream {
		return body, false
	}
	raw, present := req["stream_options"]
	if !present {
		i := bytes.IndexByte(body, '{') + 1
		out = append([]byte{}, body[:i]...)
		out = append(out, `"stream_options":{"include_usage":true},`...)
		return append(out, body[i:]...), true
	}
	var opts map[string]json.RawMessage
	if err := json.Unmarshal(raw, &opts); err != nil {
		return body, false
	}
	var include bool
	if err := json.Unmarshal(opts["include_usage"], &include); err == nil && include {
		return body, false
	}
	if opts == nil {
		opts = map[string]json.RawMessage{}
	}
	opts["include_usage"] = json.RawMessage("true")
	var err error
	if req["stream_options"], err = json.Marshal(opts); err != nil {
		return body, false
	}
	if out, err = json.Marshal(req); err != nil {
		return body, false
	}
	return out, true
}

// oracleEdit is editBody done the old way, one map round trip per edit.
func oracleEdit(body []byte, model string, setModel, includeUsage bool) (out []byte, added bool, err error) {
	out = body
	if setModel {
		if out, err = oracleRewriteModel(out, model); err != nil {
			return nil, false, err
		}
	}
	if includeUsage {
		out, added = oracleIncludeUsage(out)
	}
	return out, added, nil
}

// decode is what a JSON decoder that keeps the last of duplicate keys
// makes of b (numbers as written).
func decode(tb testing.TB, b []byte) any {
	tb.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		tb.Fatalf("%q does not decode: %v", b, err)
	}
	return v
}

// mustEdit scans body and edits it as the OpenAI-compatible route does.
func mustEdit(tb testing.TB, body, model string, setModel, includeUsage bool) (string, bool) {
	tb.Helper()
	h, err := scanHead([]byte(body))
	if err != nil {
		tb.Fatalf("scanHead(%q): %v", body, err)
	}
	out, added := editBody([]byte(body), &h, model, setModel, includeUsage)
	return string(out), added
}

func TestEditBodyUsage(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		want      string
		wantAdded bool
	}{
		{"StreamWithoutOptions", `{"model":"gpt-4o","stream":true,"messages":[]}`,
			`{"stream_options":{"include_usage":true},"model":"gpt-4o","stream":true,"messages":[]}`, true},
		{"StreamWithoutOptionsSpaces", ` { "stream" : true } `,
			` {"stream_options":{"include_usage":true}, "stream" : true } `, true},
		{"StreamWithOtherOptions", `{"stream":true,"stream_options":{"include_obfuscation":false},"model":"m"}`,
			`{"stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false},"model":"m"}`, true},
		{"StreamWithEmptyOptions", `{"stream":true,"stream_options":{ }}`,
			`{"stream":true,"stream_options":{"include_usage":true }}`, true},
		{"StreamWithUsageFalse", `{"stream":true,"stream_options":{"include_usage":false}}`,
			`{"stream":true,"stream_options":{"include_usage":true}}`, true},
		{"StreamWithUsageNull", `{"stream":true,"stream_options":{"a":1,"include_usage" : null ,"b":2}}`,
			`{"stream":true,"stream_options":{"a":1,"include_usage" : true ,"b":2}}`, true},
		{"StreamWithUsageNotBool", `{"stream":true,"stream_options":{"include_usage":"yes"}}`,
			`{"stream":true,"stream_options":{"include_usage":true}}`, true},
		{"StreamOptionsNull", `{"stream":true,"stream_options":null}`,
			`{"stream":true,"stream_options":{"include_usage":true}}`, true},
		{"AlreadyAsked", `{"stream":true,"stream_options":{"include_usage":true}}`,
			`{"stream":true,"stream_options":{"include_usage":true}}`, false},
		{"AlreadyAskedEscapedKey", `{"stream":true,"stream_options":{"include\u005fusage":true}}`,
			`{"stream":true,"stream_options":{"include\u005fusage":true}}`, false},
		// Keys are matched after unescaping. (Duplicates and other cases
		// of these keys never get here: scanHead refuses them.)
		{"StreamEscapedKey", `{"str\u0065am":true}`,
			`{"stream_options":{"include_usage":true},"str\u0065am":true}`, true},
		{"OtherOptionsDuplicated", `{"stream":true,"stream_options":{"x":1,"x":2}}`,
			`{"stream":true,"stream_options":{"include_usage":true,"x":1,"x":2}}`, true},
		{"NestedOptionsIgnored", `{"stream":true,"x":{"stream_options":{"include_usage":false}}}`,
			`{"stream_options":{"include_usage":true},"stream":true,"x":{"stream_options":{"include_usage":false}}}`, true},
		{"NotAStream", `{"model":"gpt-4o","messages":[]}`, `{"model":"gpt-4o","messages":[]}`, false},
		{"StreamFalse", `{"stream":false}`, `{"stream":false}`, false},
		{"StreamOptionsNotObject", `{"stream":true,"stream_options":1}`, `{"stream":true,"stream_options":1}`, false},
		{"StreamOptionsArray", `{"stream":true,"stream_options":[{"include_usage":false}]}`,
			`{"stream":true,"stream_options":[{"include_usage":false}]}`, false},
		{"Null", `null`, `null`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, added := mustEdit(t, tc.body, "", false, true)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if added != tc.wantAdded {
				t.Errorf("added = %v, want %v", added, tc.wantAdded)
			}
			checkOracle(t, []byte(tc.body), "", false, true)
		})
	}
}

func TestEditBodyModel(t *testing.T) {
	tests := []struct {
		name, body, model string
		usage             bool
		want              string
	}{
		{"Plain", `{"model":"openai/gpt-4o","messages":[]}`, "gpt-4o", false,
			`{"model":"gpt-4o","messages":[]}`},
		{"Spaces", "{ \"model\" :\t\"mistral/mistral-large\" ,\n\"messages\":[]}", "mistral-large", false,
			"{ \"model\" :\t\"mistral-large\" ,\n\"messages\":[]}"},
		{"Last", `{"messages":[],"model":"openrouter/anthropic/claude-3.5"}`, "anthropic/claude-3.5", false,
			`{"messages":[],"model":"anthropic/claude-3.5"}`},
		{"EscapedValue", `{"model":"openai\/gpt-4o\u002dmini"}`, "gpt-4o-mini", false,
			`{"model":"gpt-4o-mini"}`},
		{"EscapedKey", `{"mod\u0065l":"openai/gpt-4o"}`, "gpt-4o", false,
			`{"mod\u0065l":"gpt-4o"}`},
		{"NeedsEscapes", `{"model":"x/a\"b\\c\nd\u0001é"}`, "a\"b\\c\nd\x01é", false,
			`{"model":"a\"b\\c\nd\u0001é"}`},
		{"Null", `{"model":null,"messages":[]}`, "gpt-4o", false,
			`{"model":"gpt-4o","messages":[]}`},
		{"Absent", `{"messages":[]}`, "gpt-4o", false,
			`{"model":"gpt-4o","messages":[]}`},
		{"UnreadDuplicatesKept", `{"model":"openai/gpt-4o","seed":1,"seed":2}`, "gpt-4o", false,
			`{"model":"gpt-4o","seed":1,"seed":2}`},
		{"WithUsage", `{"model":"openai/gpt-4o","stream":true,"messages":[]}`, "gpt-4o", true,
			`{"stream_options":{"include_usage":true},"model":"gpt-4o","stream":true,"messages":[]}`},
		{"WithUsageAfter", `{"stream":true,"stream_options":{},"model":"openai/gpt-4o"}`, "gpt-4o", true,
			`{"stream":true,"stream_options":{"include_usage":true},"model":"gpt-4o"}`},
		{"WithUsageBefore", `{"model":"openai/gpt-4o","stream":true,"stream_options":{"x":1}}`, "gpt-4o", true,
			`{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true,"x":1}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := mustEdit(t, tc.body, tc.model, true, tc.usage)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			checkOracle(t, []byte(tc.body), tc.model, true, tc.usage)
		})
	}
}

// TestEditBodyUnchanged: with nothing to change, the body itself comes
// back, not a copy.
func TestEditBodyUnchanged(t *testing.T) {
	body := []byte(`{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}`)
	h, err := scanHead(body)
	if err != nil {
		t.Fatal(err)
	}
	if out, added := editBody(body, &h, "", false, true); &out[0] != &body[0] || added {
		t.Errorf("editBody copied an unchanged body (added %v)", added)
	}
}

// checkOracle checks that editBody's output is valid JSON that decodes to
// what the map round trips made, and that it reports the same added. A
// body scanHead refuses (not JSON, or a member keygate reads twice or in
// another case) is skipped: the routes answer 400 before any edit.
func checkOracle(tb testing.TB, body []byte, model string, setModel, includeUsage bool) {
	tb.Helper()
	h, err := scanHead(body)
	if err != nil || bytes.TrimLeft(body, " \t\r\n")[0] != '{' {
		return // the routes refuse it before any edit
	}
	got, added := editBody(body, &h, model, setModel, includeUsage)
	want, wantAdded, err := oracleEdit(body, model, setModel, includeUsage)
	if err != nil {
		tb.Fatalf("map round trip of %q: %v", body, err)
	}
	if !json.Valid(got) {
		tb.Fatalf("editBody(%q) = %q, not valid JSON", body, got)
	}
	if diff := cmp.Diff(decode(tb, want), decode(tb, got)); diff != "" {
		tb.Fatalf("editBody(%q, %q, %v, %v) = %q; the map round trip gives %q (-map +splice):\n%s", body, model, setModel, includeUsage, got, want, diff)
	}
	if added != wantAdded {
		tb.Fatalf("editBody(%q) added = %v; the map round trip: %v", body, added, wantAdded)
	}
}

// FuzzEditBody checks that for any body the routes accept, the spliced
// body is valid JSON that means what the map round trips made of it.
func FuzzEditBody(f *testing.F) {
	for _, s := range []string{
		string(chatStreamBody),
		`{"stream":true,"stream_options":{"include_usage":false,"x":[1,{"include_usage":true}]}}`,
		`{"model":"a/b","stream":true,"stream_options":null,"user":1,"user":{}}`,
		`{"model":"c\u0022d","str\u0065am":true,"stream_options":{"include_usage":1,"x":null,"x":1}}`,
		"{\"model\":\"\xc3\",\"stream\":true,\"stream_options\":{\"\xff\":true}}",
		` { "stream" : true , "stream_options" : { } } `,
	} {
		f.Add([]byte(s), "gpt-4o", true)
	}
	f.Fuzz(func(t *testing.T, body []byte, model string, setModel bool) {
		checkOracle(t, body, model, setModel, true)
		checkOracle(t, body, model, setModel, false)
	})
}

func BenchmarkBodyEdit(b *testing.B) {
	model := strings.TrimPrefix(`openai/gpt-4o`, "openai/")
	b.Run("splice", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h, err := scanHead(chatStreamBody)
			if err != nil {
				b.Fatal(err)
			}
			if out, added := editBody(chatStreamBody, &h, model, true, true); !added || len(out) == len(chatStreamBody) {
				b.Fatal("no include_usage")
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := scanHead(chatStreamBody); err != nil {
				b.Fatal(err)
			}
			if _, added, err := oracleEdit(chatStreamBody, model, true, true); err != nil || !added {
				b.Fatal("no include_usage", err)
			}
		}
	})
}
