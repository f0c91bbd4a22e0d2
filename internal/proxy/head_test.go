// SPDX-License-Identifier: Apache-2.0

package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// oracleHead is what scanHead replaced: encoding/json into the same
// fields. scanHead must agree with it on every input: ok is whether
// encoding/json accepts the body, and dup the member keygate reads that an
// accepted body has twice or in another case (found by oracleDup).
func oracleHead(body []byte) (h head, dup string, ok bool) {
	var v struct {
		Model    string `json:"model"`
		Stream   bool   `json:"stream"`
		User     string `json:"user"`
		Metadata *struct {
			UserID string `json:"user_id"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return head{}, "", false
	}
	if dup = oracleDup(body); dup != "" {
		return head{}, dup, true
	}
	out := head{Model: v.Model, Stream: v.Stream, User: v.User}
	if v.Metadata != nil {
		out.MetaUser = v.Metadata.UserID
	}
	var m struct {
		MaxTokens           *int64 `json:"max_tokens"`
		MaxCompletionTokens *int64 `json:"max_completion_tokens"`
		MaxOutputTokens     *int64 `json:"max_output_tokens"`
	}
	if json.Unmarshal(body, &m) == nil {
		for _, v := range []*int64{m.MaxCompletionTokens, m.MaxTokens, m.MaxOutputTokens} {
			if v != nil && *v >= 0 {
				out.MaxOut, out.HasMaxOut = *v, true
				break
			}
		}
	}
	return out, "", true
}

// oracleDup walks the top-level object of body (valid JSON) with
// encoding/json's tokenizer and names the first member keygate reads that
// comes a second time or under a key that is another case of its name
// (strings.EqualFold, as encoding/json folds), in document order, a
// member counting once its value has been read.
func oracleDup(body []byte) string {
	d := json.NewDecoder(bytes.NewReader(body))
	if t, _ := d.Token(); t != json.Delim('{') {
		return "" // null
	}
	seen := map[string]bool{}
	check := func(key, name, as string) string {
		if !strings.EqualFold(key, name) {
			return ""
		}
		if key != name || seen[as] {
			return as
		}
		seen[as] = true
		return ""
	}
	for d.More() {
		t, _ := d.Token()
		key := t.(string)
		if key == "stream_options" && bytes.HasPrefix(bytes.TrimLeft(body[d.InputOffset():], " \t\r\n:"), []byte("{")) {
			d.Token() // {
			for d.More() {
				t, _ := d.Token()
				var raw json.RawMessage
				_ = d.Decode(&raw)
				if dup := check(t.(string), "include_usage", "stream_options.include_usage"); dup != "" {
					return dup
				}
			}
			d.Token() // }
		} else if strings.EqualFold(key, "metadata") && bytes.HasPrefix(bytes.TrimLeft(body[d.InputOffset():], " \t\r\n:"), []byte("{")) {
			d.Token() // {
			for d.More() {
				t, _ := d.Token()
				var raw json.RawMessage
				_ = d.Decode(&raw)
				if dup := check(t.(string), "user_id", "metadata.user_id"); dup != "" {
					return dup
				}
			}
			d.Token() // }
		} else {
			var raw json.RawMessage
			_ = d.Decode(&raw)
		}
		for _, name := range []string{"model", "stream", "max_completion_tokens", "max_tokens", "max_output_tokens", "stream_options", "user", "metadata"} {
			if dup := check(key, name, name); dup != "" {
				return dup
			}
		}
	}
	return ""
}

// withoutSpans is h without the edit positions, which the body tests
// check (encoding/json does not see them).
func withoutSpans(h head) head {
	h.at = spans{}
	return h
}

func TestScanHead(t *testing.T) {
	tests := []struct {
		name string
		body string
		want head
		ok   bool
	}{
		{"OK", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, head{Model: "gpt-4o"}, true},
		{"Stream", `{"stream":true,"model":"gpt-4o"}`, head{Model: "gpt-4o", Stream: true}, true},
		{"Whitespace", " \t\r\n{ \"model\" : \"m\" , \"stream\" : false } \n", head{Model: "m"}, true},
		{"EscapedKey", `{"mod\u0065l":"m"}`, head{Model: "m"}, true},
		{"EscapedModel", `{"model":"gpt-4o\u002dmini\n"}`, head{Model: "gpt-4o-mini\n"}, true},
		{"TopLevelNull", `null`, head{}, true},
		{"NullModel", `{"model":null,"stream":null}`, head{}, true},
		{"NullMaxIsAbsent", `{"max_tokens":null,"max_output_tokens":7}`, head{MaxOut: 7, HasMaxOut: true}, true},
		{"UnreadDuplicatesPass", `{"model":"m","messages":[],"messages":[],"Messages":1,"seed":1,"seed":2}`, head{Model: "m"}, true},
		{"User", `{"model":"m","user":"u_1"}`, head{Model: "m", User: "u_1"}, true},
		{"EscapedUser", `{"model":"m","user":"a\u0040b"}`, head{Model: "m", User: "a@b"}, true},
		{"NullUser", `{"model":"m","user":null,"metadata":null}`, head{Model: "m"}, true},
		{"MetadataUserID", `{"model":"m","metadata":{"x":1,"user_id":"u_2"}}`, head{Model: "m", MetaUser: "u_2"}, true},
		{"MetadataOtherKeysTwice", `{"model":"m","metadata":{"x":1,"x":2,"User":"a"}}`, head{Model: "m"}, true},
		{"NestedUserUnread", `{"model":"m","x":{"user":"a","metadata":{"user_id":"b"}}}`, head{Model: "m"}, true},
		{"ErrUserNumber", `{"user":5}`, head{}, false},
		{"ErrMetadataString", `{"metadata":"u"}`, head{}, false},
		{"ErrMetadataArray", `{"metadata":[]}`, head{}, false},
		{"ErrMetadataUserIDNumber", `{"metadata":{"user_id":1}}`, head{}, false},
		{"NestedDuplicatesPass", `{"model":"m","x":{"model":"a","model":"b","Stream":true}}`, head{Model: "m"}, true},
		{"MaxCompletionFirst", `{"max_tokens":7,"max_completion_tokens":9}`, head{MaxOut: 9, HasMaxOut: true}, true},
		{"NegativeSkipped", `{"max_completion_tokens":-1,"max_tokens":7}`, head{MaxOut: 7, HasMaxOut: true}, true},
		{"FloatVoidsAll", `{"max_tokens":7,"max_output_tokens":1.5}`, head{}, true},
		{"StringVoidsAll", `{"max_tokens":"7"}`, head{}, true},
		{"MinInt64", `{"max_tokens":-9223372036854775808,"max_output_tokens":9223372036854775807}`, head{MaxOut: 9223372036854775807, HasMaxOut: true}, true},
		{"OverflowVoidsAll", `{"max_tokens":9223372036854775808,"max_output_tokens":3}`, head{}, true},
		{"Nested", `{"a":{"model":"x","b":[1,-2.5e+3,true,false,null,"s",{}]},"model":"y"}`, head{Model: "y"}, true},
		{"InvalidUTF8Model", "{\"model\":\"a\xffb\"}", head{Model: "a\ufffdb"}, true},
		{"ErrModelNumber", `{"model":5}`, head{}, false},
		{"ErrStreamString", `{"stream":"true"}`, head{}, false},
		{"ErrArray", `[{"model":"m"}]`, head{}, false},
		{"ErrString", `"model"`, head{}, false},
		{"ErrTrailing", `{"model":"m"} x`, head{}, false},
		{"ErrTrailingComma", `{"model":"m",}`, head{}, false},
		{"ErrUnclosed", `{"model":"m"`, head{}, false},
		{"ErrControlChar", "{\"model\":\"a\tb\"}", head{}, false},
		{"ErrBadEscape", `{"model":"\x"}`, head{}, false},
		{"ErrShortUnicode", `{"model":"\u12"}`, head{}, false},
		{"ErrLeadingZero", `{"n":01}`, head{}, false},
		{"ErrBareMinus", `{"n":-}`, head{}, false},
		{"ErrBadLiteral", `{"n":nul}`, head{}, false},
		{"ErrSingleQuotes", `{'model':'m'}`, head{}, false},
		{"ErrEmpty", ``, head{}, false},
		{"ErrTooDeep", `{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`, head{}, false},
		{"DeepestAllowed", `{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`, head{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scanHead([]byte(tc.body))
			if (err == nil) != tc.ok {
				t.Fatalf("scanHead error = %v, want ok = %v", err, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(head{}, "at")); diff != "" {
				t.Errorf("scanHead (-want +got):\n%s", diff)
			}
			want, dup, ok := oracleHead([]byte(tc.body))
			if ok != tc.ok || dup != "" || want != tc.want {
				t.Errorf("the table disagrees with encoding/json: %+v, %v", want, ok)
			}
		})
	}
}

// TestScanHeadDuplicates: a body that has a member keygate reads twice, or
// under a key in another case, is refused with that member's name, so that
// keygate never meters or routes by one value while the provider runs
// another; members keygate does not read may repeat.
func TestScanHeadDuplicates(t *testing.T) {
	tests := []struct {
		name, body string
		dup        string // "" when the body is accepted
	}{
		{"DuplicateModel", `{"model":"mistral-small-latest","model":"mistral-large-latest"}`, "model"},
		{"OtherCaseModel", `{"model":"mistral-large-latest","Model":"mistral-small-latest"}`, "model"},
		{"OnlyOtherCaseModel", `{"MODEL":"gpt-4o"}`, "model"},
		{"EscapedOtherCase", `{"model":"a","\u004dodel":"b"}`, "model"},
		{"DuplicateStream", `{"model":"m","stream":false,"stream":true}`, "stream"},
		{"OtherCaseStream", `{"model":"m","STREAM":true}`, "stream"},
		{"DuplicateNull", `{"model":"m","stream":true,"stream":null}`, "stream"},
		{"MaxTokensTwice", `{"model":"m","max_tokens":5,"max_tokens":50000}`, "max_tokens"},
		{"MaxCompletionOtherCase", `{"model":"m","Max_Completion_Tokens":5}`, "max_completion_tokens"},
		{"MaxOutputTwice", `{"model":"m","max_output_tokens":1,"max_output_tokens":null}`, "max_output_tokens"},
		{"KelvinSign", `{"model":"m","max_to` + "\u212a" + `ens":5}`, "max_tokens"},
		{"StreamOptionsTwice", `{"model":"m","stream_options":{},"stream_options":null}`, "stream_options"},
		{"StreamOptionsOtherCase", `{"model":"m","Stream_Options":{"include_usage":true}}`, "stream_options"},
		{"IncludeUsageTwice", `{"model":"m","stream_options":{"include_usage":true,"include_usage":false}}`, "stream_options.include_usage"},
		{"UserTwice", `{"model":"m","user":"a","user":"b"}`, "user"},
		{"UserOtherCase", `{"model":"m","User":"a"}`, "user"},
		{"MetadataTwice", `{"model":"m","metadata":{},"metadata":{"user_id":"b"}}`, "metadata"},
		{"MetadataOtherCase", `{"model":"m","Metadata":{"user_id":"b"}}`, "metadata"},
		{"MetadataUserIDTwice", `{"model":"m","metadata":{"user_id":"a","user_id":"b"}}`, "metadata.user_id"},
		{"MetadataUserIDOtherCase", `{"model":"m","metadata":{"User_Id":"a"}}`, "metadata.user_id"},
		{"MetadataOtherCaseWrongTypeFirst", `{"model":"m","METADATA":{"user_id":5}}`, "(not JSON)"},
		{"FirstDuplicateNamed", `{"stream":true,"model":"a","stream":true,"model":"b"}`, "stream"},
		{"EscapedExactKey", `{"mod\u0065l":"m","str\u0065am":true}`, ""},
		{"UnreadDuplicate", `{"model":"m","temperature":1,"temperature":2,"Temperature":3}`, ""},
		{"NestedDuplicate", `{"model":"m","metadata":{"model":"a","Model":"b"},"messages":[{"stream":1,"stream":2,"user":1,"user":2}]}`, ""},
		{"NestedIncludeUsage", `{"model":"m","stream_options":{"x":{"include_usage":1,"include_usage":2}}}`, ""},
		{"InvalidJSONFirst", `{"model":"a","model":"b"`, "(not JSON)"},
		{"WrongTypeFirst", `{"model":"a","Model":5}`, "(not JSON)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scanHead([]byte(tc.body))
			var got string
			var d *duplicateField
			switch {
			case errors.As(err, &d):
				got = d.name
			case err != nil:
				got = "(not JSON)"
			}
			if diff := cmp.Diff(tc.dup, got); diff != "" {
				t.Errorf("refused member (-want +got):\n%s", diff)
			}
			if _, dup, ok := oracleHead([]byte(tc.body)); ok && dup != got {
				t.Errorf("the oracle finds %q", dup)
			}
		})
	}
}

// FuzzScanHead checks scanHead against encoding/json on any input.
func FuzzScanHead(f *testing.F) {
	for _, s := range []string{
		`{"model":"gpt-4o","stream":true,"max_tokens":16,"messages":[{"role":"user","content":"hi \u00e9"}]}`,
		`{"MODEL":"m","max_completion_tokens":-3,"max_output_tokens":1e3}`,
		`null`, `[1,2]`, `{"a":{"b":[{"c":null}]}}`, `{"model":"a\\"b"}`, "{\"model\":\"\xc3\"}",
		`{"model":"a","Model":"b"}`, `{"stream_options":{"include_usage":true,"Include_Usage":1},"x":[]}`, `{"max_tokens":1,"max_tokens":"x"}`,
		`{"user":"a","metadata":{"user_id":"b","USER_ID":"c"}}`, `{"Metadata":{"user_id":null},"user":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := scanHead(body)
		want, dup, ok := oracleHead(body)
		var d *duplicateField
		switch {
		case !ok:
			if !errors.Is(err, errNotJSON) {
				t.Fatalf("scanHead(%q) error = %v; encoding/json refuses it", body, err)
			}
		case dup != "":
			if !errors.As(err, &d) || d.name != dup {
				t.Fatalf("scanHead(%q) error = %v; the oracle finds %s twice", body, err, dup)
			}
		case err != nil:
			t.Fatalf("scanHead(%q) error = %v; encoding/json accepts it once each", body, err)
		case withoutSpans(got) != want:
			t.Fatalf("scanHead(%q) = %+v; encoding/json = %+v", body, got, want)
		}
	})
}

func BenchmarkScanHead(b *testing.B) {
	small := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}],"max_tokens":16}`)
	large := []byte(`{"model":"gpt-4o-mini","messages":[` + strings.Repeat(`{"role":"user","content":"The quick brown fox jumps over the lazy dog, again and again."},`, 500) + `{"role":"user","content":"Sum it up."}],"max_tokens":16}`)
	for _, bc := range []struct {
		name string
		body []byte
	}{{"small", small}, {"large", large}} {
		b.Run("scan/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				if _, err := scanHead(bc.body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("encoding-json/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				if _, _, ok := oracleHead(bc.body); !ok {
					b.Fatal("invalid")
				}
			}
		})
	}
}
