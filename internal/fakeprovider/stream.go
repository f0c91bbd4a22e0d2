// SPDX-License-Identifier: Apache-2.0

package fakeprovider

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// stream writes server-sent events, flushing each, and applies the
// exchange's StallAfter and CutAfter faults.
type stream struct {
	x      *exchange
	n      int
	halted bool
}

func (x *exchange) startStream() *stream {
	h := x.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	x.w.WriteHeader(http.StatusOK)
	x.w.Flush()
	return &stream{x: x}
}

// event sends one event ("event: name" when name is non-empty, then the
// JSON data) and reports whether the stream may go on.
func (s *stream) event(name string, data any) bool {
	b, err := json.Marshal(data)
	if err != nil {
		panic(fmt.Sprintf("fakeprovider: marshal event: %v", err))
	}
	return s.raw(name, string(b))
}

// raw sends one event whose data is taken as is ("[DONE]").
func (s *stream) raw(name, data string) bool {
	if s.halted {
		return false
	}
	if s.x.ctx.Err() != nil {
		s.halted = true
		return false
	}
	if name != "" {
		fmt.Fprintf(s.x.w, "event: %s\n", name)
	}
	s.x.write([]byte("data: " + data + "\n\n"))
	s.x.w.Flush()
	s.n++
	if c := s.x.fault.CutAfter; c > 0 && s.n >= c {
		// Abort the connection mid-stream: the client sees an unexpected
		// EOF, as when a provider's connection breaks.
		panic(http.ErrAbortHandler)
	}
	if st := s.x.fault.StallAfter; st > 0 && s.n >= st {
		s.x.stall()
		s.halted = true
		return false
	}
	return true
}
