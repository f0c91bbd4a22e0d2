// SPDX-License-Identifier: Apache-2.0

package usage

import (
	"io"
	"sync"

	"github.com/keygate/keygate/internal/provider"
)

// Meter reads token usage from a response body as it passes through the
// proxy: the proxy writes every chunk it forwards to the Meter as well (or
// wraps the body with Body). It never holds the body. For a stream
// (text/event-stream) it parses events as they complete and keeps the
// latest usage, field by field: OpenAI's last chunk, Anthropic's
// message_start then message_delta, the Responses API's response.completed,
// Gemini's last chunk. For a plain JSON body it scans the bytes as they come
// (no size cap), so a body of any size is metered.
//
// What a Meter reports only ever comes from complete JSON objects: a body or
// stream cut anywhere reports what its complete events (or, for a JSON
// array, elements) said, and nothing from a partial one.
//
// The bytes must be the body as the provider's API defines it, not
// compressed: the proxy should not pass the client's Accept-Encoding
// upstream (or must meter after decoding), else nothing is metered.
//
// A Meter is safe for concurrent use, so a goroutine that gives up on a
// stalled stream may read Counts while the copy is still writing.
type Meter struct {
	mu     sync.Mutex
	off    bool // dialect none
	stream bool
	closed bool
	sse    sseParser // a stream; a JSON body goes straight to its scanner
	model  string    // the last model name turned into a string
}

// NewMeter returns a Meter for a response in dialect d; stream says whether
// the body is an event stream (Content-Type text/event-stream) rather than
// JSON. A Meter for provider.UsageNone reports nothing. Every other dialect
// recognises the three usage shapes (OpenAI chat, completions, embeddings
// and Responses; Anthropic Messages; Gemini usageMetadata, also as the JSON
// array of a non-SSE streamGenerateContent, where the last element wins),
// because providers serve an OpenAI-compatible API next to their own: the
// google provider answers /v1beta/openai/chat/completions in the OpenAI
// shape. A JSON body that is not JSON, or whose top-level object does not
// close, reports false; counts the provider did not report are zero.
func NewMeter(d provider.UsageDialect, stream bool) *Meter {
	return &Meter{off: d == provider.UsageNone, stream: stream}
}

// Write observes p. It never fails, never blocks beyond a short lock, and
// keeps no reference to p; after Close it ignores p.
func (m *Meter) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.off || m.closed {
		return len(p), nil
	}
	if m.stream {
		m.sse.write(p)
	} else {
		m.sse.sc.write(p)
	}
	return len(p), nil
}

// Close marks the end of the body, however it ended (EOF, upstream error,
// client gone). For a stream, a last event that lacks its terminating empty
// line is then dispatched (some servers end that way), provided its data is
// a complete JSON object. Close always returns nil and may be called more
// than once.
func (m *Meter) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed && m.stream && !m.off {
		m.sse.close()
	}
	m.closed = true
	return nil
}

// Counts returns the usage seen so far and reports whether the provider
// reported any. Model may be set even when the report is false.
func (m *Meter) Counts() (Counts, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.off {
		return Counts{}, false
	}
	f := &m.sse.sc.done
	if m.stream {
		f = &m.sse.merged
	}
	c, ok := f.counts()
	// The model name becomes a string once per change, not once per call
	// or event; the comparison does not allocate.
	if f.hasModel && string(f.model[:f.modelLen]) != m.model {
		m.model = string(f.model[:f.modelLen])
	}
	c.Model = m.model
	return c, ok
}

// Body returns a body that reads from rc, writes every byte it returns to
// m, and closes m at the end of the body (EOF or any read error) and on
// Close, so the proxy can set resp.Body = m.Body(resp.Body) in
// ModifyResponse.
func (m *Meter) Body(rc io.ReadCloser) io.ReadCloser { return &meteredBody{rc: rc, m: m} }

type meteredBody struct {
	rc io.ReadCloser
	m  *Meter
}

func (b *meteredBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		_, _ = b.m.Write(p[:n])
	}
	if err != nil {
		_ = b.m.Close()
	}
	return n, err
}

func (b *meteredBody) Close() error {
	_ = b.m.Close()
	return b.rc.Close()
}
