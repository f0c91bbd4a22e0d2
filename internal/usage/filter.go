// SPDX-License-Identifier: Apache-2.0

package usage

import "io"

// maxFilterEvent bounds the event an EventFilter holds back to judge it. A
// longer event is passed through unjudged as it arrives: the events a filter
// drops (usage chunks) are small.
const maxFilterEvent = 1 << 20

// An EventFilter's buffer starts at filterBufSize and grows when less than
// filterMinRead bytes are free after moving the pending bytes to its front.
const (
	filterBufSize = 4 << 10
	filterMinRead = 512
)

// EventFilter is a server-sent-events body that passes on the events of its
// source except those drop reports true for. It goes between the upstream
// body and the client (resp.Body = NewEventFilter(resp.Body, StripUsageChunk)
// in ModifyResponse), after any Meter, which must see every event.
//
// Framing is kept byte for byte: an event passed on is exactly the bytes
// the source sent for it, up to and including the line ending of its empty
// line, and the bytes around a dropped event are untouched. Read returns as
// soon as it holds one or more complete passed events (never a part of one
// that might still be dropped), so a proxy that flushes after each write
// flushes per event. At the end of the source, a last event without its
// empty line is judged as it is. An EventFilter is not safe for concurrent
// use.
type EventFilter struct {
	src  io.ReadCloser
	drop func(event []byte) bool

	buf   []byte // buf[rd:ready]: to return; buf[ready:scan]: the open event; buf[scan:]: unread
	rd    int
	ready int
	scan  int
	err   error // from src; returned once buf is drained

	afterCR   bool // the byte before scan was a CR ending a line
	lineLen   int  // bytes of the current line before scan
	pendingCR bool // the event ended with a CR ending its empty line; an LF may still belong to it
	passing   bool // the open event outgrew maxFilterEvent: its bytes go out unjudged
}

// NewEventFilter returns an EventFilter reading src and dropping each event
// (its raw bytes, empty line included) for which drop returns true. drop
// must not keep the slice.
func NewEventFilter(src io.ReadCloser, drop func(event []byte) bool) *EventFilter {
	return &EventFilter{src: src, drop: drop}
}

// Read implements io.Reader. Errors are the source's, after every byte
// before them has been returned.
func (f *EventFilter) Read(p []byte) (int, error) {
	for f.rd == f.ready {
		if f.err != nil {
			f.finish()
			if f.rd == f.ready {
				return 0, f.err
			}
			break
		}
		f.fill()
		f.split()
	}
	n := copy(p, f.buf[f.rd:f.ready])
	f.rd += n
	return n, nil
}

// Close closes the source.
func (f *EventFilter) Close() error { return f.src.Close() }

// fill reads once from the source into the buffer, first moving the bytes
// not yet returned to its front.
func (f *EventFilter) fill() {
	if f.rd > 0 {
		n := copy(f.buf, f.buf[f.rd:])
		f.buf = f.buf[:n]
		f.ready -= f.rd
		f.scan -= f.rd
		f.rd = 0
	}
	if cap(f.buf)-len(f.buf) < filterMinRead {
		nb := make([]byte, len(f.buf), 2*cap(f.buf)+filterBufSize)
		copy(nb, f.buf)
		f.buf = nb
	}
	n, err := f.src.Read(f.buf[len(f.buf):cap(f.buf)])
	f.buf = f.buf[:len(f.buf)+n]
	if err != nil {
		f.err = err
	}
}

// split finds the ends of events in the unread bytes and judges each
// complete event.
func (f *EventFilter) split() {
	for f.scan < len(f.buf) {
		c := f.buf[f.scan]
		if f.pendingCR {
			f.pendingCR = false
			if c == '\n' {
				f.scan++
			}
			f.endEvent(f.scan)
			continue
		}
		f.scan++
		switch {
		case f.afterCR && c == '\n':
			f.afterCR = false // the LF of a CRLF: the line already ended
		case c == '\r' || c == '\n':
			f.afterCR = c == '\r'
			if f.lineLen > 0 {
				f.lineLen = 0
				break
			}
			if c == '\r' {
				f.pendingCR = true // wait for the next byte: it may be an LF
				break
			}
			f.endEvent(f.scan)
		default:
			f.afterCR = false
			f.lineLen++
		}
	}
	if f.passing {
		f.ready = f.scan
	} else if f.scan-f.ready > maxFilterEvent {
		f.passing = true
		f.ready = f.scan
	}
}

// endEvent judges the event buf[ready:end].
func (f *EventFilter) endEvent(end int) {
	f.afterCR = false
	if f.passing || !f.drop(f.buf[f.ready:end]) {
		f.passing = false
		f.ready = end
		return
	}
	n := copy(f.buf[f.ready:], f.buf[end:])
	f.buf = f.buf[:f.ready+n]
	f.scan = f.ready
}

// finish judges what is left at the end of the source as a last event.
func (f *EventFilter) finish() {
	f.split()
	if f.pendingCR {
		f.pendingCR = false
		f.endEvent(f.scan)
	}
	if f.ready < len(f.buf) {
		f.endEvent(len(f.buf))
	}
}

// StripUsageChunk reports whether event (the raw bytes of one server-sent
// event) is the extra chunk an OpenAI chat or completions stream ends with
// when stream_options.include_usage is true: its data is one complete JSON
// object with "choices": [] and a "usage" object with counts. It is the
// drop function for an EventFilter on a stream whose request the proxy
// changed to ask for usage. Other chunks of such a stream carry
// "usage": null, which the official SDKs accept, so they pass unchanged.
func StripUsageChunk(event []byte) bool {
	var p sseParser
	p.write(event)
	p.close()
	return p.merged.emptyChoices && p.merged.set&openAIChatMask != 0
}
