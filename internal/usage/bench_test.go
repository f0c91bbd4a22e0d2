// SPDX-License-Identifier: Apache-2.0

package usage_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/usage"
)

// chatStream20 returns the 20 chunks of an OpenAI chat stream with
// include_usage, as the proxy forwards them: 18 content chunks, the usage
// chunk and [DONE].
func chatStream20() [][]byte {
	var out [][]byte
	for i := range 18 {
		out = append(out, fmt.Appendf(nil, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"content":" word%d"},"logprobs":null,"finish_reason":null}],"usage":null}`+"\n\n", i))
	}
	out = append(out,
		[]byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","system_fingerprint":"fp_fake","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":18,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`+"\n\n"),
		[]byte("data: [DONE]\n\n"))
	return out
}

// BenchmarkMeterSSE meters a 20-chunk stream, one write per chunk, from
// NewMeter to Counts.
func BenchmarkMeterSSE(b *testing.B) {
	chunks := chatStream20()
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		m := usage.NewMeter(provider.UsageOpenAI, true)
		for _, c := range chunks {
			_, _ = m.Write(c)
		}
		_ = m.Close()
		if c, ok := m.Counts(); !ok || c.Output != 18 {
			b.Fatalf("counts %+v, %v", c, ok)
		}
	}
}

// BenchmarkMeterSSEFake meters the fake's Anthropic and Gemini streams,
// written whole.
func BenchmarkMeterSSEFake(b *testing.B) {
	bodies := MustFakeBodies(b)
	for _, tc := range fakeCalls {
		if !tc.stream || tc.name == "openai/chat-stream-no-usage" {
			continue
		}
		body := bodies[tc.name]
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				m := usage.NewMeter(tc.dialect, true)
				_, _ = m.Write(body)
				_, _ = m.Counts()
			}
		})
	}
}

// BenchmarkMeterJSON meters a chat completion and a large embeddings answer
// as one plain JSON body.
func BenchmarkMeterJSON(b *testing.B) {
	chat := []byte(`{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, how may I assist you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0}}}`)
	var emb bytes.Buffer
	emb.WriteString(`{"object":"list","data":[`)
	for i := range 100 {
		if i > 0 {
			emb.WriteByte(',')
		}
		emb.WriteString(`{"object":"embedding","index":0,"embedding":[`)
		for j := range 1536 {
			if j > 0 {
				emb.WriteByte(',')
			}
			fmt.Fprintf(&emb, "%.9f", float64(j%97)/97-0.5)
		}
		emb.WriteString(`]}`)
	}
	emb.WriteString(`],"model":"text-embedding-3-small","usage":{"prompt_tokens":800,"total_tokens":800}}`)
	for _, tc := range []struct {
		name string
		body []byte
	}{{"chat", chat}, {"embeddings-100x1536", emb.Bytes()}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				m := usage.NewMeter(provider.UsageOpenAI, false)
				_, _ = m.Write(tc.body)
				if _, ok := m.Counts(); !ok {
					b.Fatal("no usage")
				}
			}
		})
	}
}

// BenchmarkEventFilter strips the usage chunk from a 20-chunk stream read
// one chunk per Read.
func BenchmarkEventFilter(b *testing.B) {
	chunks := chatStream20()
	stream := bytes.Join(chunks, nil)
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		f := usage.NewEventFilter(io.NopCloser(&chunkReader{src: stream, n: len(chunks[0])}), usage.StripUsageChunk)
		for {
			if _, err := f.Read(buf); err != nil {
				break
			}
		}
	}
}

func BenchmarkStripUsageChunk(b *testing.B) {
	ev := chatStream20()[0]
	b.ReportAllocs()
	for b.Loop() {
		if usage.StripUsageChunk(ev) {
			b.Fatal("content chunk stripped")
		}
	}
}
