// SPDX-License-Identifier: Apache-2.0

package usage_test

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/usage"
)

// TestMeterFake meters every answer of the fake provider, plain and
// streamed, whole and split at every byte boundary.
func TestMeterFake(t *testing.T) {
	bodies := MustFakeBodies(t)
	for _, tc := range fakeCalls {
		t.Run(tc.name, func(t *testing.T) {
			body := bodies[tc.name]
			want := res(tc.want, tc.wantOK)
			if diff := cmp.Diff(want, res(meterAll(tc.dialect, tc.stream, true, body))); diff != "" {
				t.Fatalf("whole body (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, res(meterAll(tc.dialect, tc.stream, false, body))); diff != "" {
				t.Errorf("whole body, not closed (-want +got):\n%s", diff)
			}
			for i := range body {
				if diff := cmp.Diff(want, res(meterAll(tc.dialect, tc.stream, true, body[:i], body[i:]))); diff != "" {
					t.Fatalf("split at byte %d (-want +got):\n%s", i, diff)
				}
			}
			var bytewise [][]byte
			for i := range body {
				bytewise = append(bytewise, body[i:i+1])
			}
			if diff := cmp.Diff(want, res(meterAll(tc.dialect, tc.stream, true, bytewise...))); diff != "" {
				t.Errorf("one byte at a time (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMeterCutStreams cuts every fake stream after every byte: the meter
// reports what the complete events said (and, once closed, a last event
// whose data is complete), as encoding/json reads them.
func TestMeterCutStreams(t *testing.T) {
	bodies := MustFakeBodies(t)
	for _, tc := range fakeCalls {
		if !tc.stream || tc.dialect == provider.UsageNone {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			body := bodies[tc.name]
			for i := 0; i <= len(body); i++ {
				cut := body[:i]
				if diff := cmp.Diff(oracle(cut, false), res(meterAll(tc.dialect, true, false, cut))); diff != "" {
					t.Fatalf("cut at byte %d of %d, open (-want +got):\n%s", i, len(body), diff)
				}
				if diff := cmp.Diff(oracle(cut, true), res(meterAll(tc.dialect, true, true, cut))); diff != "" {
					t.Fatalf("cut at byte %d of %d, closed (-want +got):\n%s\ntail: %q", i, len(body), diff, cut[max(0, len(cut)-80):])
				}
			}
		})
	}
}

// TestMeterLineEndings meters the fake's streams with CRLF and CR line
// endings, split at every byte (so a CRLF is split too).
func TestMeterLineEndings(t *testing.T) {
	bodies := MustFakeBodies(t)
	for _, tc := range fakeCalls {
		if !tc.stream {
			continue
		}
		for _, eol := range []string{"\r\n", "\r"} {
			t.Run(tc.name+"/"+strings.ReplaceAll(strings.ReplaceAll(eol, "\r", "CR"), "\n", "LF"), func(t *testing.T) {
				body := bytes.ReplaceAll(bodies[tc.name], []byte("\n"), []byte(eol))
				want := res(tc.want, tc.wantOK)
				for i := range body {
					if diff := cmp.Diff(want, res(meterAll(tc.dialect, true, false, body[:i], body[i:]))); diff != "" {
						t.Fatalf("split at byte %d (-want +got):\n%s", i, diff)
					}
				}
			})
		}
	}
}

// TestMeterSSE covers framing the fake does not produce.
func TestMeterSSE(t *testing.T) {
	const u = `{"usage":{"prompt_tokens":7,"completion_tokens":2}}`
	tests := []struct {
		name    string
		stream  string
		closeIt bool
		want    result
	}{
		{"OK", "data: " + u + "\n\n", false, res(usage.Counts{Input: 7, Output: 2}, true)},
		{"NoSpaceAfterColon", "data:" + u + "\n\n", false, res(usage.Counts{Input: 7, Output: 2}, true)},
		{"MultiLineData", "data: {\"usage\":\ndata: {\"prompt_tokens\":7,\ndata: \"completion_tokens\":2}}\n\n", false, res(usage.Counts{Input: 7, Output: 2}, true)},
		{"CommentsAndOtherFields", ": keep-alive\n\n: OPENROUTER PROCESSING\nid: 4\nretry: 100\nevent: x\ndata: " + u + "\n\n", false, res(usage.Counts{Input: 7, Output: 2}, true)},
		{"LastEventWithoutBlankLineOpen", "data: " + u + "\n", false, res(usage.Counts{}, false)},
		{"LastEventWithoutBlankLineClosed", "data: " + u + "\n", true, res(usage.Counts{Input: 7, Output: 2}, true)},
		{"LastLineWithoutEndClosed", "data: " + u, true, res(usage.Counts{Input: 7, Output: 2}, true)},
		{"CutInsideJSONClosed", "data: " + u[:len(u)-1], true, res(usage.Counts{}, false)},
		{"Done", "data: " + u + "\n\ndata: [DONE]\n\n", false, res(usage.Counts{Input: 7, Output: 2}, true)},
		{"BOM", "\xEF\xBB\xBFdata: " + u + "\n\n", false, res(usage.Counts{Input: 7, Output: 2}, true)},
		{"LaterEventWinsFieldByField", "data: {\"message\":{\"model\":\"m1\",\"usage\":{\"input_tokens\":5,\"cache_read_input_tokens\":3,\"output_tokens\":1}}}\n\ndata: {\"usage\":{\"output_tokens\":9}}\n\n", false,
			res(usage.Counts{Input: 8, Output: 9, Cached: 3, Model: "m1"}, true)},
		{"UsageNullIgnored", "data: " + u + "\n\ndata: {\"usage\":null}\n\n", false, res(usage.Counts{Input: 7, Output: 2}, true)},
		{"FieldNotData", "datum: " + u + "\n\n", false, res(usage.Counts{}, false)},
		{"DataWithoutColonIsEmpty", "data\ndata: " + u + "\n\n", false, res(usage.Counts{Input: 7, Output: 2}, true)},
		{"TwoValuesInOneEvent", "data: " + u + "\ndata: {\"usage\":{\"prompt_tokens\":1}}\n\n", false, res(usage.Counts{Input: 7, Output: 2}, true)},
		{"UsageInsideStringIgnored", `data: {"delta":"{\"usage\":{\"prompt_tokens\":99}}"}` + "\n\n", false, res(usage.Counts{}, false)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.stream)
			for i := range b {
				if diff := cmp.Diff(tc.want, res(meterAll(provider.UsageOpenAI, true, tc.closeIt, b[:i], b[i:]))); diff != "" {
					t.Fatalf("split at %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestMeterNone(t *testing.T) {
	m := usage.NewMeter(provider.UsageNone, true)
	_, _ = m.Write([]byte("data: {\"usage\":{\"prompt_tokens\":7}}\n\n"))
	if diff := cmp.Diff(result{}, res(m.Counts())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMeterWriteAfterClose(t *testing.T) {
	m := usage.NewMeter(provider.UsageOpenAI, true)
	_, _ = m.Write([]byte("data: {\"usage\":{\"prompt_tokens\":7}}\n\n"))
	_ = m.Close()
	_, _ = m.Write([]byte("data: {\"usage\":{\"prompt_tokens\":8}}\n\n"))
	_ = m.Close()
	if diff := cmp.Diff(res(usage.Counts{Input: 7}, true), res(m.Counts())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestMeterBody reads a stream through Meter.Body in one-byte reads, and
// cut by a read error.
func TestMeterBody(t *testing.T) {
	stream := "data: {\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2}}\n"
	tests := []struct {
		name string
		src  io.Reader
		want result
	}{
		{"EOF", iotest.OneByteReader(strings.NewReader(stream)), res(usage.Counts{Input: 7, Output: 2}, true)},
		{"ErrorClosesMeter", io.MultiReader(strings.NewReader(stream), iotest.ErrReader(io.ErrUnexpectedEOF)), res(usage.Counts{Input: 7, Output: 2}, true)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := usage.NewMeter(provider.UsageOpenAI, true)
			body := m.Body(io.NopCloser(tc.src))
			got, _ := io.ReadAll(body)
			if string(got) != stream {
				t.Errorf("body = %q, want %q", got, stream)
			}
			if diff := cmp.Diff(tc.want, res(m.Counts())); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if err := body.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestMeterConcurrent reads Counts while another goroutine writes (run with
// -race).
func TestMeterConcurrent(t *testing.T) {
	m := usage.NewMeter(provider.UsageAnthropic, true)
	ev := []byte("event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":3}}\n\n")
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 200 {
			_, _ = m.Write(ev)
		}
		_ = m.Close()
	})
	for range 200 {
		_, _ = m.Counts()
	}
	wg.Wait()
	if diff := cmp.Diff(res(usage.Counts{Output: 3}, true), res(m.Counts())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
