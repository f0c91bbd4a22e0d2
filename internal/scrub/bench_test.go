// SPDX-License-Identifier: Apache-2.0

package scrub_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/scrub"
)

// sseStream is a typical chat stream: 200 chunks of a few tokens each.
func sseStream(echo string) []byte {
	var b bytes.Buffer
	for i := 0; i < 200; i++ {
		word := fmt.Sprintf(" word%d", i)
		if echo != "" && i%50 == 25 {
			word = " " + echo
		}
		fmt.Fprintf(&b, "data: {\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", word)
	}
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

// jsonBody is a typical non-streamed answer of about 4 KiB.
func jsonBody(echo string) []byte {
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 80)
	if echo != "" {
		text = text[:1000] + echo + text[1000:]
	}
	return fmt.Appendf(nil, `{"id":"chatcmpl-abc123","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":800,"total_tokens":810}}`, text)
}

// eventReader returns one SSE event per Read, as a provider's stream
// arrives, and starts over at the end: a Reader is built once, outside
// the measured loop.
type eventReader struct {
	events [][]byte
	i      int
}

func (e *eventReader) Read(p []byte) (int, error) {
	n := copy(p, e.events[e.i%len(e.events)])
	e.i++
	return n, nil
}

func BenchmarkReader(b *testing.B) {
	k := "sk-proj-" + strings.Repeat("Ab3x", 40) // a 168-character project key
	s := scrub.New(keygate.NewSecret(k))
	for _, tc := range []struct {
		name string
		body []byte
		sse  bool
	}{
		{"SSE/NoMatch", sseStream(""), true},
		{"SSE/Match", sseStream(k), true},
		{"JSON/NoMatch", jsonBody(""), false},
		{"JSON/Match", jsonBody(k), false},
	} {
		var events [][]byte
		if tc.sse {
			for _, ev := range bytes.SplitAfter(tc.body, []byte("\n\n")) {
				if len(ev) > 0 {
					events = append(events, ev)
				}
			}
		} else {
			events = [][]byte{tc.body}
		}
		b.Run(tc.name, func(b *testing.B) {
			buf := make([]byte, 32<<10)
			src := &eventReader{events: events}
			r := scrub.NewReader(src, s, nil)
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// One answer: as many reads as it has chunks.
				for range events {
					if _, err := r.Read(buf); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkNew is the cost of a call's Scrubber: built once per answer.
func BenchmarkNew(b *testing.B) {
	k := keygate.NewSecret("sk-proj-" + strings.Repeat("Ab3x", 40))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = scrub.New(k)
	}
}
