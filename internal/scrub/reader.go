// SPDX-License-Identifier: Apache-2.0

package scrub

import "io"

// smallRead is the buffer size below which a Reader works in a buffer of
// its own instead of the caller's.
const smallRead = 4 << 10

// Reader returns the bytes of its source with every needle of its
// Scrubber replaced, as they arrive. Of each chunk it holds back only the
// longest tail that is an unfinished prefix of some needle (at most
// MaxLen-1 bytes), so a chunk that ends elsewhere, such as a server-sent
// event ending in "\n\n", is returned whole at once, and a needle split
// across chunks is still found. Its output is the output of Scrubber.Bytes
// over the whole source, however the source is chunked.
//
// With a caller's buffer of 2*MaxLen bytes or more (the reverse proxy
// reads with 32 KiB), the bytes are scrubbed in the caller's buffer: a Read
// allocates nothing. A Reader is not safe for concurrent use.
type Reader struct {
	src   io.Reader
	s     *Scrubber
	found func(n int)

	held []byte // the unfinished tail of the last chunk
	own  []byte // the Reader's buffer, for small reads
	out  []byte // scrubbed bytes in own not yet returned
	err  error  // from src, returned once everything before it is
}

// NewReader returns a Reader of src that scrubs with s, calling found (if
// not nil) with the number of needles replaced in each chunk that had any.
func NewReader(src io.Reader, s *Scrubber, found func(n int)) *Reader {
	return &Reader{src: src, s: s, found: found, held: make([]byte, 0, s.MaxLen())}
}

// Read implements io.Reader. Errors are the source's, returned after every
// byte before them, except an unfinished prefix of a needle just before an
// error other than io.EOF, which is dropped: a stream that breaks off in the
// middle of a key never releases its first part.
func (r *Reader) Read(p []byte) (int, error) {
	if len(r.out) > 0 {
		n := copy(p, r.out)
		r.out = r.out[n:]
		return n, nil
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.err != nil && len(r.held) == 0 {
		return 0, r.err
	}
	if r.s.Empty() {
		return r.src.Read(p)
	}
	w := p
	if len(p) < 2*r.s.MaxLen() {
		if r.own == nil {
			r.own = make([]byte, max(smallRead, 2*r.s.MaxLen()))
		}
		w = r.own
	}
	n := r.fill(w)
	if n == 0 {
		return 0, r.err
	}
	if &w[0] == &p[0] {
		return n, nil
	}
	r.out = w[:n]
	m := copy(p, r.out)
	r.out = r.out[m:]
	return m, nil
}

// fill reads into w (at least 2*MaxLen bytes) until it has bytes it may
// return or the source ends, scrubs them and returns how many are ready;
// 0 only at the end of the source (r.err is then set).
func (r *Reader) fill(w []byte) int {
	h := copy(w, r.held)
	r.held = r.held[:0]
	for {
		final := r.err != nil
		if !final {
			m, err := r.src.Read(w[h:])
			h += m
			if err != nil {
				r.err, final = err, true
			}
		}
		// A source that broke off (any error but io.EOF) ends the text
		// unfinished: its held tail may be the start of a needle, so it
		// is scanned as if more were to come and then dropped, never
		// released.
		broken := final && r.err != io.EOF
		count, hold := r.s.scan(w[:h], 0, final && !broken)
		if count > 0 && r.found != nil {
			r.found(count)
		}
		if broken {
			return hold
		}
		if hold > 0 || final {
			r.held = append(r.held, w[hold:h]...)
			return hold
		}
		// Everything read so far may begin a needle (less than MaxLen
		// bytes): read on. The scan found no match in it, so counting
		// again cannot count one twice.
	}
}
