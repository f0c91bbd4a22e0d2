// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Headers by which one request asks the fake for a stream shape other than
// its defaults. keygate forwards them like any other caller header.
const (
	HeaderChunks   = "X-Bench-Chunks"   // number of content events in a stream
	HeaderInterval = "X-Bench-Interval" // pause before each event after the first (a Go duration)
)

// KeyPrefix starts every provider key the fake accepts: the harness stores
// keys with this prefix in keygate, and the baseline injects one, so a
// request that arrives with the caller's gateway token (or nothing) is
// refused and counted as an error.
const KeyPrefix = "sk-bench-"

// FakeOptions configure a Fake.
type FakeOptions struct {
	// Latency is waited before the first byte of every answer.
	Latency time.Duration
	// Chunks is the number of content events of a stream (default 20).
	Chunks int
	// Interval is the pause between stream events (default none).
	Interval time.Duration
}

// Fake is a deliberately lean OpenAI-compatible upstream for load tests:
// fixed, precomputed answers, no recording, no JSON decoding beyond finding
// "stream": true, so that as little CPU as possible goes to it. It serves
// POST .../chat/completions (JSON, or SSE of N chunks followed by a usage
// chunk when stream_options.include_usage is set, and [DONE]) and POST
// .../embeddings, under any path prefix.
type Fake struct {
	opt        FakeOptions
	chat       []byte
	embeddings []byte
	unauth     []byte
	// answered counts the calls answered with 200, so that the harness can
	// tell a target that called the fake from one that answered by itself.
	answered atomic.Uint64
}

// AnsweredMetric is the counter AnsweredHandler serves: the calls the fake
// answered with 200.
const AnsweredMetric = "keygate_bench_fake_answered_total"

// Answered returns how many calls the fake has answered with 200 (a
// stream counts when its header is sent).
func (f *Fake) Answered() uint64 { return f.answered.Load() }

// AnsweredHandler serves Answered in the Prometheus text format, for
// ScrapeCounter.
func (f *Fake) AnsweredHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "%s %d\n", AnsweredMetric, f.Answered())
	})
}

// NewFake returns a Fake.
func NewFake(opt FakeOptions) *Fake {
	if opt.Chunks <= 0 {
		opt.Chunks = 20
	}
	return &Fake{
		opt: opt,
		chat: []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",` +
			`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the load-test fake provider.","refusal":null},"logprobs":null,"finish_reason":"stop"}],` +
			`"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},` +
			`"system_fingerprint":"fp_bench"}` + "\n"),
		embeddings: []byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023,-0.0091,0.0152,-0.0047,0.0218,0.0005,-0.0133,0.0071]}],` +
			`"model":"text-embedding-3-small","usage":{"prompt_tokens":6,"total_tokens":6}}` + "\n"),
		unauth: []byte(`{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}` + "\n"),
	}
}

const chunkPrefix = `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":`

// ServeHTTP implements http.Handler.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	h := w.Header()
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "+KeyPrefix) {
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write(f.unauth)
		return
	}
	if f.opt.Latency > 0 && !sleep(r, f.opt.Latency) {
		return
	}
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/chat/completions"):
		if bytes.Contains(body, []byte(`"stream":true`)) {
			f.stream(w, r, bytes.Contains(body, []byte(`"include_usage":true`)))
			return
		}
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(f.chat)))
		f.answered.Add(1)
		_, _ = w.Write(f.chat)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/embeddings"):
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(f.embeddings)))
		f.answered.Add(1)
		_, _ = w.Write(f.embeddings)
	default:
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"message":"the load-test fake serves only chat completions and embeddings","type":"invalid_request_error"}}`+"\n")
	}
}

// stream answers with Chunks content events, each flushed, then the usage
// chunk if asked for, then [DONE].
func (f *Fake) stream(w http.ResponseWriter, r *http.Request, includeUsage bool) {
	chunks, interval := f.opt.Chunks, f.opt.Interval
	if v, err := strconv.Atoi(r.Header.Get(HeaderChunks)); err == nil && v > 0 {
		chunks = v
	}
	if v, err := time.ParseDuration(r.Header.Get(HeaderInterval)); err == nil && v >= 0 {
		interval = v
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	f.answered.Add(1)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	var buf []byte
	for i := range chunks {
		if i > 0 && interval > 0 && !sleep(r, interval) {
			return
		}
		buf = append(buf[:0], chunkPrefix...)
		switch {
		case i == 0:
			buf = append(buf, `{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]`...)
		case i == chunks-1:
			buf = append(buf, `{},"logprobs":null,"finish_reason":"stop"}]`...)
		default:
			buf = fmt.Appendf(buf, `{"content":" word%d"},"logprobs":null,"finish_reason":null}]`, i)
		}
		if includeUsage {
			buf = append(buf, `,"usage":null`...)
		}
		buf = append(buf, "}\n\n"...)
		if _, err := w.Write(buf); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
	if includeUsage {
		_, _ = io.WriteString(w, `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_bench","choices":[],`+
			`"usage":{"prompt_tokens":12,"completion_tokens":`+strconv.Itoa(chunks)+`,"total_tokens":`+strconv.Itoa(12+chunks)+`}}`+"\n\n")
	}
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
	_ = rc.Flush()
}

// sleep waits d and reports false if the client went away meanwhile.
func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
