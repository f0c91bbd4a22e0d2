package proxy

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/keygate/keygate/internal/usage"
)

// chatStreamBody is a streamed chat call named "provider/model", which
// gets both body edits.
var chatStreamBody = []byte(`{"model":"openai/gpt-4o","stream":true,"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}],"max_tokens":16}`)

// oracleRewriteModel is what the model rewrite replaced: a round trip of
// the body through a map.
func oracleRewriteModel(body []byte, model string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(model)
	m["model"] = b
	return json.Marshal(m)
}

func BenchmarkBodyEdit(b *testing.B) {
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h, err := scanHead(chatStreamBody)
			if err != nil {
				b.Fatal(err)
			}
			out, err := oracleRewriteModel(chatStreamBody, h.Model[len("openai/"):])
			if err != nil {
				b.Fatal(err)
			}
			if out, _ = usage.IncludeUsage(out); !bytes.Contains(out, []byte("include_usage")) {
				b.Fatal("no include_usage")
			}
		}
	})
}
