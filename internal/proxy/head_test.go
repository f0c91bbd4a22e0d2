package proxy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// oracleHead is what scanHead replaced: encoding/json into the same
// fields. scanHead must agree with it on every input.
func oracleHead(body []byte) (head, bool) {
	var h struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return head{}, false
	}
	out := head{Model: h.Model, Stream: h.Stream}
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
	return out, true
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
		{"CaseInsensitiveKeys", `{"MODEL":"m","Stream":true}`, head{Model: "m", Stream: true}, true},
		{"KelvinSignKey", `{"model":"m","max_to` + "\u212a" + `ens":5}`, head{Model: "m", MaxOut: 5, HasMaxOut: true}, true},
		{"EscapedKey", `{"mod\u0065l":"m"}`, head{Model: "m"}, true},
		{"EscapedModel", `{"model":"gpt-4o\u002dmini\n"}`, head{Model: "gpt-4o-mini\n"}, true},
		{"LastDuplicateWins", `{"model":"a","model":"b"}`, head{Model: "b"}, true},
		{"NullKeepsEarlier", `{"model":"a","model":null,"stream":true,"stream":null}`, head{Model: "a", Stream: true}, true},
		{"TopLevelNull", `null`, head{}, true},
		{"MaxCompletionFirst", `{"max_tokens":7,"max_completion_tokens":9}`, head{MaxOut: 9, HasMaxOut: true}, true},
		{"NegativeSkipped", `{"max_completion_tokens":-1,"max_tokens":7}`, head{MaxOut: 7, HasMaxOut: true}, true},
		{"FloatVoidsAll", `{"max_tokens":7,"max_output_tokens":1.5}`, head{}, true},
		{"StringVoidsAll", `{"max_tokens":"7"}`, head{}, true},
		{"MinInt64", `{"max_tokens":-9223372036854775808,"max_output_tokens":9223372036854775807}`, head{MaxOut: 9223372036854775807, HasMaxOut: true}, true},
		{"OverflowVoidsAll", `{"max_tokens":9223372036854775808,"max_output_tokens":3}`, head{}, true},
		{"NullMaxIsAbsent", `{"max_tokens":7,"max_tokens":null}`, head{}, true},
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
			want, ok := oracleHead([]byte(tc.body))
			if ok != tc.ok || want != tc.want {
				t.Errorf("the table disagrees with encoding/json: %+v, %v", want, ok)
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
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := scanHead(body)
		want, ok := oracleHead(body)
		if (err == nil) != ok {
			t.Fatalf("scanHead(%q) error = %v; encoding/json ok = %v", body, err, ok)
		}
		if ok && withoutSpans(got) != want {
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
				if _, ok := oracleHead(bc.body); !ok {
					b.Fatal("invalid")
				}
			}
		})
	}
}
