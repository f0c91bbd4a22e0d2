// SPDX-License-Identifier: Apache-2.0

package usage_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/usage"
)

// chunkReader returns src in reads of at most n bytes.
type chunkReader struct {
	src []byte
	n   int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.src) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, len(r.src))
	copy(p, r.src[:k])
	r.src = r.src[k:]
	return k, nil
}

// MustFilter reads src through an EventFilter in reads of chunk bytes and
// returns what came out and each Read's bytes.
func MustFilter(tb testing.TB, src []byte, chunk int, drop func([]byte) bool) (out []byte, reads [][]byte) {
	tb.Helper()
	f := usage.NewEventFilter(io.NopCloser(&chunkReader{src: src, n: chunk}), drop)
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			out = append(out, buf[:n]...)
			reads = append(reads, bytes.Clone(buf[:n]))
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return out, reads
}

// TestEventFilterStripsUsageChunk removes exactly the usage chunk of the
// fake's include_usage streams, with any line ending and read size.
func TestEventFilterStripsUsageChunk(t *testing.T) {
	bodies := MustFakeBodies(t)
	for _, name := range []string{"openai/chat-stream-usage", "openai/completions-stream-usage", "google/openai-compat-chat-stream"} {
		for _, eol := range []string{"\n", "\r\n", "\r"} {
			in := bytes.ReplaceAll(bodies[name], []byte("\n"), []byte(eol))
			// The expected output: the input without the one event whose
			// data has "choices":[] and a usage object.
			sep := []byte(eol + eol)
			events := bytes.SplitAfter(in, sep)
			var want []byte
			stripped := 0
			for _, ev := range events {
				if bytes.Contains(ev, []byte(`"choices":[]`)) && bytes.Contains(ev, []byte(`"usage":{`)) {
					stripped++
					continue
				}
				want = append(want, ev...)
			}
			if stripped != 1 {
				t.Fatalf("%s: %d usage chunks in the fake's stream, want 1", name, stripped)
			}
			for _, chunk := range []int{1, 2, 7, 64, len(in)} {
				got, _ := MustFilter(t, in, chunk, usage.StripUsageChunk)
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Fatalf("%s, eol %q, reads of %d (-want +got):\n%s", name, eol, chunk, diff)
				}
			}
		}
	}
}

// TestEventFilterFraming passes everything through byte for byte, and
// returns whole events from each Read.
func TestEventFilterFraming(t *testing.T) {
	bodies := MustFakeBodies(t)
	keep := func([]byte) bool { return false }
	tests := []struct {
		name string
		in   string
	}{
		{"FakeAnthropic", string(bodies["anthropic/messages-stream"])},
		{"FakeResponsesCRLF", strings.ReplaceAll(string(bodies["openai/responses-stream"]), "\n", "\r\n")},
		{"Mixed", "data: a\r\n\r\n: comment\n\ndata: b\r\rdata: c\n\r\ndata: d\r\n\n"},
		{"LeadingBlankLines", "\n\n\r\ndata: a\n\n"},
		{"NoFinalBlankLine", "data: a\n\ndata: b\n"},
		{"NoFinalLineEnd", "data: a\n\ndata: b"},
		{"Empty", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{1, 3, 1 << 20} {
				got, reads := MustFilter(t, []byte(tc.in), chunk, keep)
				if diff := cmp.Diff(tc.in, string(got)); diff != "" {
					t.Fatalf("reads of %d (-want +got):\n%s", chunk, diff)
				}
				// Every Read but the last ends at an event boundary.
				for i, r := range reads[:max(0, len(reads)-1)] {
					if !bytes.HasSuffix(r, []byte("\n\n")) && !bytes.HasSuffix(r, []byte("\r\n\r\n")) &&
						!bytes.HasSuffix(r, []byte("\r\r")) && !bytes.HasSuffix(r, []byte("\n\r\n")) &&
						!(bytes.Equal(r, []byte("\n")) || bytes.Equal(r, []byte("\r\n"))) {
						t.Fatalf("reads of %d: read %d = %q does not end an event", chunk, i, r)
					}
				}
			}
		})
	}
}

// TestEventFilterDrop drops chosen events, including the last one without
// its blank line, and keeps the bytes around them.
func TestEventFilterDrop(t *testing.T) {
	dropB := func(ev []byte) bool { return bytes.Contains(ev, []byte("data: b")) }
	tests := []struct {
		name, in, want string
	}{
		{"Middle", "data: a\n\ndata: b\n\ndata: c\n\n", "data: a\n\ndata: c\n\n"},
		{"MiddleCRLF", "data: a\r\n\r\ndata: b\r\n\r\ndata: c\r\n\r\n", "data: a\r\n\r\ndata: c\r\n\r\n"},
		{"MiddleCR", "data: a\r\rdata: b\r\rdata: c\r\r", "data: a\r\rdata: c\r\r"},
		{"LastWithoutBlankLine", "data: a\n\ndata: b\n", "data: a\n\n"},
		{"WithEventName", "event: x\ndata: a\n\nevent: y\ndata: b\n\n", "event: x\ndata: a\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{1, 2, 5, 1 << 20} {
				got, _ := MustFilter(t, []byte(tc.in), chunk, dropB)
				if diff := cmp.Diff(tc.want, string(got)); diff != "" {
					t.Fatalf("reads of %d (-want +got):\n%s", chunk, diff)
				}
			}
		})
	}
}

// TestEventFilterHugeEvent passes an event longer than the filter holds
// back, unjudged, and judges the events after it again.
func TestEventFilterHugeEvent(t *testing.T) {
	huge := "data: " + strings.Repeat("x", 3<<20) + "\n\n"
	in := huge + "data: drop\n\ndata: keep\n\n"
	drop := func(ev []byte) bool {
		return bytes.HasPrefix(ev, []byte("data: ")) && !bytes.Contains(ev, []byte("keep"))
	}
	got, _ := MustFilter(t, []byte(in), 32<<10, drop)
	if want := huge + "data: keep\n\n"; string(got) != want {
		t.Errorf("got %d bytes ending %q, want %d bytes", len(got), got[max(0, len(got)-30):], len(want))
	}
}

// TestEventFilterSourceError returns the bytes before a read error, then
// the error.
func TestEventFilterSourceError(t *testing.T) {
	boom := errors.New("boom")
	src := io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom))
	f := usage.NewEventFilter(io.NopCloser(src), func([]byte) bool { return false })
	got, err := io.ReadAll(f)
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want %v", err, boom)
	}
	if string(got) != "data: a\n\ndata: b" {
		t.Errorf("got %q", got)
	}
}

func TestStripUsageChunk(t *testing.T) {
	tests := []struct {
		name  string
		event string
		want  bool
	}{
		{"UsageChunk", `data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":12,"total_tokens":15}}` + "\n\n", true},
		{"UsageChunkCRLF", "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":12}}\r\n\r\n", true},
		{"UsageChunkWithoutBlankLine", `data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":12}}`, true},
		{"ContentChunkUsageNull", `data: {"choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}` + "\n\n", false},
		{"ContentChunkWithUsage", `data: {"choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":3,"completion_tokens":12}}` + "\n\n", false},
		{"EmptyChoicesNoUsage", `data: {"choices":[]}` + "\n\n", false},
		{"Done", "data: [DONE]\n\n", false},
		{"Comment", ": keep-alive\n\n", false},
		{"AnthropicDelta", "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":12}}\n\n", false},
		{"Truncated", `data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":12}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := usage.StripUsageChunk([]byte(tc.event)); got != tc.want {
				t.Errorf("StripUsageChunk = %v, want %v", got, tc.want)
			}
		})
	}
}
