// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Kind is the call a workload makes.
type Kind string

// Workload kinds.
const (
	KindChat       Kind = "chat"       // non-streaming chat completion
	KindStream     Kind = "stream"     // streaming chat completion (SSE)
	KindEmbeddings Kind = "embeddings" // embeddings
)

// Workload is what each request of a run asks for.
type Workload struct {
	Kind Kind `json:"kind"`
	// Chunks and Interval shape the fake's stream (KindStream only); zero
	// keeps the fake's defaults.
	Chunks   int           `json:"chunks,omitempty"`
	Interval time.Duration `json:"interval_ns,omitempty"`
}

// Target is one server under load.
type Target struct {
	// Name labels the target in the report: "direct", "baseline",
	// "keygate", ...
	Name string `json:"name"`
	// URL is the OpenAI-style base URL; /chat/completions or /embeddings is
	// appended.
	URL string `json:"url"`
	// Tokens are the API keys sent as Authorization: Bearer, one per
	// request in turn (keygate gateway tokens of one or many tenants, or a
	// provider key for the direct target).
	Tokens []string `json:"-"`
	// PID is the server's process, for CPU and memory accounting; 0: none.
	PID int `json:"pid,omitempty"`
	// Mallocs, if set, returns the server's cumulative heap allocation
	// count, for allocations per request.
	Mallocs func(ctx context.Context) (uint64, error) `json:"-"`
	// Headers are sent with every request besides Authorization: how a
	// peer gateway is told which provider to call and where (Portkey's
	// x-portkey-provider and x-portkey-custom-host).
	Headers http.Header `json:"-"`
	// Upstream, if set, returns how many calls the upstream fake has
	// answered so far (Fake.Answered), so that a run can show whether
	// every answer the target gave came from the fake.
	Upstream func(ctx context.Context) (uint64, error) `json:"-"`
	// Skipped, if set, says why the target is not measured at all (its
	// software is missing, it did not start); the report notes it.
	Skipped string `json:"skipped,omitempty"`
	// Unsupported names the workloads the target cannot carry, with the
	// reason; scenarios of those kinds leave it out and say why.
	Unsupported map[Kind]string `json:"unsupported,omitempty"`
}

// request bodies: small, fixed, the same for every target.
var (
	chatBody       = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}],"max_tokens":16}`)
	streamBody     = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}],"max_tokens":16,"stream":true,"stream_options":{"include_usage":true}}`)
	embeddingsBody = []byte(`{"model":"text-embedding-3-small","input":"The quick brown fox jumps over the lazy dog."}`)
)

// caller sends one workload's requests to one target.
type caller struct {
	client   *http.Client
	url      string
	body     []byte
	tokens   []string
	headers  http.Header
	streamed bool
}

func newCaller(t Target, w Workload, client *http.Client) (*caller, error) {
	if len(t.Tokens) == 0 {
		return nil, fmt.Errorf("target %s has no tokens", t.Name)
	}
	c := &caller{client: client, tokens: t.Tokens, headers: http.Header{"Content-Type": {"application/json"}}}
	for k, v := range t.Headers {
		c.headers[http.CanonicalHeaderKey(k)] = v
	}
	switch w.Kind {
	case KindChat:
		c.url, c.body = t.URL+"/chat/completions", chatBody
	case KindStream:
		c.url, c.body, c.streamed = t.URL+"/chat/completions", streamBody, true
		if w.Chunks > 0 {
			c.headers.Set(HeaderChunks, strconv.Itoa(w.Chunks))
		}
		if w.Interval > 0 {
			c.headers.Set(HeaderInterval, w.Interval.String())
		}
	case KindEmbeddings:
		c.url, c.body = t.URL+"/embeddings", embeddingsBody
	default:
		return nil, fmt.Errorf("unknown workload kind %q", w.Kind)
	}
	return c, nil
}

// sample is what one request measured, relative to its start (the
// intended send time in the open loop).
type sample struct {
	total time.Duration
	ttfb  time.Duration // first event of a stream; 0 otherwise
	err   error
}

// statusError is an answer that was not 200, with the start of its body:
// a peer that answers errors fast is counted as failing, and the report
// shows what it said.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string {
	if e.body == "" {
		return "HTTP " + strconv.Itoa(e.code)
	}
	return "HTTP " + strconv.Itoa(e.code) + ": " + e.body
}

// errorKind is the class an error is counted under in Result.ErrorKinds:
// the status of a refused call, or the kind of transport failure (the
// full text, with addresses and ports, is only in FirstError).
func errorKind(err error) string {
	var se *statusError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		return "HTTP " + strconv.Itoa(se.code)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed early"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "other error"
	}
}

// do sends request i, reads the whole answer and records stream events
// in gaps. start is when the latency clock starts.
func (c *caller) do(ctx context.Context, i int, start time.Time, buf []byte, gaps *Histogram) sample {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(c.body))
	if err != nil {
		return sample{err: err}
	}
	for k, v := range c.headers {
		req.Header[k] = v
	}
	req.Header["Authorization"] = []string{"Bearer " + c.tokens[i%len(c.tokens)]}
	resp, err := c.client.Do(req)
	if err != nil {
		return sample{err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		n, _ := io.ReadFull(resp.Body, buf[:min(len(buf), 200)])
		_, _ = io.Copy(io.Discard, resp.Body)
		return sample{total: time.Since(start), err: &statusError{resp.StatusCode, strings.TrimSpace(string(buf[:n]))}}
	}
	if !c.streamed {
		if _, err := io.CopyBuffer(io.Discard, resp.Body, buf); err != nil {
			return sample{err: err}
		}
		return sample{total: time.Since(start)}
	}
	var s sample
	var last time.Time
	tail := byte(0) // last byte of the previous read, to find "\n\n" across reads
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			events := countEvents(tail, buf[:n])
			tail = buf[n-1]
			if events > 0 {
				now := time.Now()
				if last.IsZero() {
					s.ttfb = now.Sub(start)
				} else if gaps != nil {
					gaps.Record(now.Sub(last))
				}
				last = now
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sample{err: err}
		}
	}
	s.total = time.Since(start)
	return s
}

// countEvents counts SSE event ends ("\n\n") in b, given the byte before it.
func countEvents(prev byte, b []byte) int {
	n := 0
	for i, c := range b {
		if c != '\n' {
			continue
		}
		if (i == 0 && prev == '\n') || (i > 0 && b[i-1] == '\n') {
			n++
		}
	}
	return n
}

// newClient returns an HTTP client for one run: keep-alive connections
// enough for conns concurrent requests, no proxy, no compression (so the
// bytes measured are the bytes sent).
func newClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     8 << 10,
		ReadBufferSize:      8 << 10,
	}}
}
