// SPDX-License-Identifier: Apache-2.0

package usage_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/usage"
)

// fakeCall is one request to the fake provider and the usage its answer
// must report.
type fakeCall struct {
	name     string
	provider string
	path     string // under the provider's base URL, with any query
	body     string
	stream   bool
	dialect  provider.UsageDialect
	want     usage.Counts
	wantOK   bool
}

// Every prompt is "one two three": 3 "tokens" in, and the fake replies
// with 12 words.
// fakeCalls covers every route and dialect the fake serves with usage.
var fakeCalls = []fakeCall{ // read-only
	{name: "openai/chat", provider: "openai", path: "/v1/chat/completions",
		body:    `{"model":"gpt-4o","messages":[{"role":"user","content":"one two three"}]}`,
		dialect: provider.UsageOpenAI, want: usage.Counts{Input: 3, Output: 12, Model: "gpt-4o"}, wantOK: true},
	{name: "openai/chat-stream-usage", provider: "openai", path: "/v1/chat/completions", stream: true,
		body:    `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"one two three"}]}`,
		dialect: provider.UsageOpenAI, want: usage.Counts{Input: 3, Output: 12, Model: "gpt-4o"}, wantOK: true},
	{name: "openai/chat-stream-no-usage", provider: "openai", path: "/v1/chat/completions", stream: true,
		body:    `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"one two three"}]}`,
		dialect: provider.UsageOpenAI, want: usage.Counts{Model: "gpt-4o"}, wantOK: false},
	{name: "openai/completions", provider: "openai", path: "/v1/completions",
		body:    `{"model":"gpt-3.5-turbo-instruct","prompt":"one two three"}`,
		dialect: provider.UsageOpenAI, want: usage.Counts{Input: 3, Output: 12, Model: "gpt-3.5-turbo-instruct"}, wantOK: true},
	{name: "openai/completions-stream-usage", provider: "openai", path: "/v1/completions", stream: true,
		body:    `{"model":"gpt-3.5-turbo-instruct","prompt":"one two three","stream":true,"stream_options":{"include_usage":true}}`,
		dialect: provider.UsageOpenAI, want: usage.Counts{Input: 3, Output: 12, Model: "gpt-3.5-turbo-instruct"}, wantOK: true},
	{name: "openai/embeddings", provider: "openai", path: "/v1/embeddings",
		body:    `{"model":"text-embedding-3-small","input":["a b c","d"]}`,
		dialect: provider.UsageOpenAI, want: usage.Counts{Input: 4, Model: "text-embedding-3-small"}, wantOK: true},
	{name: "openai/responses", provider: "openai", path: "/v1/responses",
		body:    `{"model":"gpt-4o","input":"one two three"}`,
		dialect: provider.UsageOpenAI, want: usage.Counts{Input: 3, Output: 12, Model: "gpt-4o"}, wantOK: true},
	{name: "openai/responses-stream", provider: "openai", path: "/v1/responses", stream: true,
		body:    `{"model":"gpt-4o","input":"one two three","stream":true}`,
		dialect: provider.UsageOpenAI, want: usage.Counts{Input: 3, Output: 12, Model: "gpt-4o"}, wantOK: true},
	{name: "anthropic/messages", provider: "anthropic", path: "/v1/messages",
		body:    `{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":"one two three"}]}`,
		dialect: provider.UsageAnthropic, want: usage.Counts{Input: 3, Output: 12, Model: "claude-sonnet-4-5"}, wantOK: true},
	{name: "anthropic/messages-stream", provider: "anthropic", path: "/v1/messages", stream: true,
		body:    `{"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"one two three"}]}`,
		dialect: provider.UsageAnthropic, want: usage.Counts{Input: 3, Output: 12, Model: "claude-sonnet-4-5"}, wantOK: true},
	{name: "anthropic/openai-compat-chat", provider: "anthropic", path: "/v1/chat/completions",
		body:    `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"one two three"}]}`,
		dialect: provider.UsageAnthropic, want: usage.Counts{Input: 3, Output: 12, Model: "claude-sonnet-4-5"}, wantOK: true},
	{name: "google/generate", provider: "google", path: "/v1beta/models/gemini-2.5-flash:generateContent",
		body:    `{"contents":[{"role":"user","parts":[{"text":"one two three"}]}]}`,
		dialect: provider.UsageGemini, want: usage.Counts{Input: 3, Output: 12, Model: "gemini-2.5-flash"}, wantOK: true},
	{name: "google/generate-stream", provider: "google", path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", stream: true,
		body:    `{"contents":[{"role":"user","parts":[{"text":"one two three"}]}]}`,
		dialect: provider.UsageGemini, want: usage.Counts{Input: 3, Output: 12, Model: "gemini-2.5-flash"}, wantOK: true},
	{name: "google/openai-compat-chat-stream", provider: "google", path: "/v1beta/openai/chat/completions", stream: true,
		body:    `{"model":"gemini-2.5-flash","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"one two three"}]}`,
		dialect: provider.UsageGemini, want: usage.Counts{Input: 3, Output: 12, Model: "gemini-2.5-flash"}, wantOK: true},
	{name: "mistral/chat-stream", provider: "mistral", path: "/v1/chat/completions", stream: true,
		body:    `{"model":"mistral-small-latest","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"one two three"}]}`,
		dialect: provider.UsageOpenAI, want: usage.Counts{Input: 3, Output: 12, Model: "mistral-small-latest"}, wantOK: true},
	{name: "exa/none", provider: "exa", path: "/search",
		body:    `{"query":"one two three"}`,
		dialect: provider.UsageNone, want: usage.Counts{}, wantOK: false},
}

// MustFetch sends body to path of the named provider on the fake and
// returns the raw answer body.
func MustFetch(tb testing.TB, s *fakeprovider.Server, name, path, body string) []byte {
	tb.Helper()
	p, ok := s.Catalog().Lookup(name)
	if !ok {
		tb.Fatalf("provider %q not in the catalog", name)
	}
	req, err := http.NewRequest(http.MethodPost, s.BaseURL(name)+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(p.Auth.Header, strings.Replace(p.Auth.Template, provider.KeyPlaceholder, "test-key-0123456789abcdef", 1))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("POST %s%s: %s: %s", name, path, resp.Status, b)
	}
	return b
}

// MustFakeBodies fetches the answer of every fakeCall once.
func MustFakeBodies(tb testing.TB) map[string][]byte {
	tb.Helper()
	s := fakeprovider.Start(tb)
	out := map[string][]byte{}
	for _, c := range fakeCalls {
		out[c.name] = MustFetch(tb, s, c.provider, c.path, c.body)
	}
	return out
}

// meterAll feeds chunks to a new Meter, closes it if asked, and returns its
// counts.
func meterAll(d provider.UsageDialect, stream, closeIt bool, chunks ...[]byte) (usage.Counts, bool) {
	m := usage.NewMeter(d, stream)
	for _, c := range chunks {
		if n, err := m.Write(c); n != len(c) || err != nil {
			panic("Meter.Write failed")
		}
	}
	if closeIt {
		_ = m.Close()
	}
	return m.Counts()
}

// result pairs Counts with the report, for diffs.
type result struct {
	Counts usage.Counts
	OK     bool
}

func res(c usage.Counts, ok bool) result { return result{c, ok} }

// oracle computes what a stream's events say with encoding/json, as an
// independent check of the incremental parser. It understands the fake's
// framing (LF line ends, one data line per event). complete lists the
// events ended by their empty line; with closed, a trailing event whose
// data line is complete JSON counts too.
func oracle(stream []byte, closed bool) result {
	var fs oracleFields
	rest := stream
	for {
		i := bytes.Index(rest, []byte("\n\n"))
		if i < 0 {
			break
		}
		fs.event(rest[:i+1])
		rest = rest[i+2:]
	}
	if closed {
		fs.event(rest)
	}
	return fs.result()
}

type oracleFields struct {
	v     map[string]int64
	model string
}

func (o *oracleFields) event(ev []byte) {
	for _, line := range strings.Split(string(ev), "\n") {
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue
		}
		var root map[string]any
		if json.Unmarshal([]byte(strings.TrimPrefix(data, " ")), &root) != nil {
			continue
		}
		o.object(root)
	}
}

func (o *oracleFields) object(root map[string]any) {
	if o.v == nil {
		o.v = map[string]int64{}
	}
	take := func(obj any, keys ...string) {
		m, _ := obj.(map[string]any)
		for _, k := range keys {
			if f, ok := m[k].(float64); ok && f >= 0 && f == float64(int64(f)) {
				o.v[k] = int64(f)
			}
		}
	}
	model := func(obj any, key string) {
		m, _ := obj.(map[string]any)
		if s, ok := m[key].(string); ok && s != "" {
			o.model = s
		}
	}
	usageObj := func(u any) {
		take(u, "prompt_tokens", "completion_tokens", "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
		m, _ := u.(map[string]any)
		take(m["prompt_tokens_details"], "cached_tokens")
		take(m["input_tokens_details"], "cached_tokens")
	}
	usageObj(root["usage"])
	take(root["usageMetadata"], "promptTokenCount", "candidatesTokenCount", "cachedContentTokenCount", "thoughtsTokenCount", "toolUsePromptTokenCount")
	model(root, "model")
	model(root, "modelVersion")
	for _, w := range []string{"message", "response"} {
		m, _ := root[w].(map[string]any)
		usageObj(m["usage"])
		model(m, "model")
	}
}

func (o *oracleFields) result() result {
	v := o.v
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := v[k]; ok {
				return true
			}
		}
		return false
	}
	c := usage.Counts{Model: o.model}
	switch {
	case has("prompt_tokens", "completion_tokens"):
		c.Input, c.Output, c.Cached = v["prompt_tokens"], v["completion_tokens"], v["cached_tokens"]
	case has("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
		c.Input = v["input_tokens"] + v["cache_read_input_tokens"] + v["cache_creation_input_tokens"]
		c.Output = v["output_tokens"]
		c.Cached = v["cached_tokens"] + v["cache_read_input_tokens"]
	case has("promptTokenCount", "candidatesTokenCount", "cachedContentTokenCount", "thoughtsTokenCount", "toolUsePromptTokenCount"):
		c.Input = v["promptTokenCount"] + v["toolUsePromptTokenCount"]
		c.Output = v["candidatesTokenCount"] + v["thoughtsTokenCount"]
		c.Cached = v["cachedContentTokenCount"]
	default:
		return result{Counts: usage.Counts{Model: o.model}}
	}
	return result{Counts: c, OK: true}
}
