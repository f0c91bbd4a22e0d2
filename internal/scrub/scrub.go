// SPDX-License-Identifier: Apache-2.0

// Package scrub removes known credentials from text that keygate relays:
// a provider (or a proxy in front of it) that reflects the key it received
// in a header, an error, a stream or a model id must not hand that key to
// the caller. keygate knows the exact credential it injected, so it looks
// for that credential, not for key-shaped strings: the key itself, its
// base64 forms (standard and URL-safe alphabets, padded or not, also
// inside a longer base64 text at any of the three byte alignments) and its
// URL-encoded forms (query and path escaping) when they differ.
//
// A match is replaced in place by a marker of the same length
// ("[redacted****]"), so a body's Content-Length stays true and a stream
// is never re-framed: a response is scrubbed as it passes, with nothing
// buffered beyond one needle's length.
package scrub

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/keygate/keygate"
)

// MinKeyLen is the shortest credential scrubbed: a shorter one would match
// ordinary text (no catalog key format is this short).
const MinKeyLen = 8

// marker is what a match is replaced with, cut or padded with '*' to the
// match's length.
const marker = "[redacted]"

// Scrubber finds and replaces the needles of a set of credentials. The
// zero Scrubber (and a nil one) finds nothing. A Scrubber is read-only
// once built and safe for concurrent use.
type Scrubber struct {
	needles [][]byte
	strs    []string // the needles as strings, to search strings without copying them
	offs    []int    // where each needle starts in the buffer they share
	// first marks the bytes that start a needle: most bytes of a body
	// cannot begin a match, so the tail check rarely compares anything.
	first [256]bool
	max   int // the longest needle
}

// New returns a Scrubber for the given credentials (zero or short ones are
// ignored). A key's needles are the key itself, the parts of its base64
// encodings that depend on the key alone (for each alphabet and each
// alignment of the key in a longer encoded text, without the characters
// that mix in neighbouring bytes or padding), and its query and path
// escapings where they differ from it. A Scrubber is built for each answer
// relayed, so it allocates little: the needles of all keys share one
// buffer.
func New(keys ...keygate.Secret) *Scrubber {
	s := &Scrubber{}
	size := 0
	for _, k := range keys {
		size += needlesLen(k.RevealBytes())
	}
	if size == 0 {
		return s
	}
	store := make([]byte, 0, size)
	s.needles = make([][]byte, 0, maxNeedles*len(keys))
	s.offs = make([]int, 0, maxNeedles*len(keys))
	for _, k := range keys {
		store = s.appendNeedles(store, k.RevealBytes())
	}
	s.minimize()
	str := string(store)
	s.strs = make([]string, len(s.needles))
	for i, n := range s.needles {
		s.first[n[0]] = true
		s.max = max(s.max, len(n))
		s.strs[i] = str[s.offs[i] : s.offs[i]+len(n)]
	}
	return s
}

// maxNeedles is the most needles one key has: itself, six base64 cores,
// two escapings.
const maxNeedles = 9

// needlesLen bounds the bytes of the needles of key.
func needlesLen(key []byte) int {
	n := len(key)
	if n < MinKeyLen {
		return 0
	}
	size := n + 6*base64.RawStdEncoding.EncodedLen(n+2)
	if needsEscape(key) {
		size += 2 * 3 * n
	}
	return size
}

// appendNeedles appends key's needles to store (whose capacity
// needlesLen reserved, so the needles never move) and adds them to s.
func (s *Scrubber) appendNeedles(store, key []byte) []byte {
	if len(key) < MinKeyLen {
		return store
	}
	start := len(store)
	store = append(store, key...)
	s.add(store, start)
	var zeros [2]byte // the bytes before key at alignments 1 and 2
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for align := 0; align < 3; align++ {
			start := len(store)
			store = appendBase64Core(store, enc, zeros[:align], key)
			s.add(store, start)
		}
	}
	if needsEscape(key) {
		for _, esc := range []string{url.QueryEscape(string(key)), url.PathEscape(string(key))} {
			if esc != string(key) {
				start := len(store)
				store = append(store, esc...)
				s.add(store, start)
			}
		}
	}
	return store
}

// appendBase64Core appends the characters of the encoding of pre+key (pre
// shorter than 3 bytes, key at least MinKeyLen) that depend only on key's
// bits: those of the first group that mix in pre and the last one that
// mixes in what follows are left out.
func appendBase64Core(store []byte, enc *base64.Encoding, pre, key []byte) []byte {
	align := len(pre)
	// Character i carries bits [6i, 6i+6) of the input; key holds bits
	// [8*align, 8*(align+len(key))).
	from := (8*align + 5) / 6
	to := 8 * (align + len(key)) / 6
	start := len(store)
	store = store[:start+enc.EncodedLen(align+len(key))]
	// pre and key's first bytes make one whole group; the rest of key
	// follows on a group boundary, so it encodes on its own.
	head := 0
	if align > 0 {
		head = 3 - align
		var group [3]byte
		copy(group[:], pre)
		copy(group[align:], key[:head])
		enc.Encode(store[start:], group[:])
	}
	enc.Encode(store[start+4*min(head, 1):], key[head:])
	copy(store[start:], store[start+from:start+to])
	return store[:start+to-from]
}

// needsEscape reports whether key has a byte that query or path escaping
// changes (anything but letters, digits and "-_.~").
func needsEscape(key []byte) bool {
	for _, c := range key {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == '~':
		default:
			return true
		}
	}
	return false
}

// add adds store[start:] as a needle unless it is one already.
func (s *Scrubber) add(store []byte, start int) {
	n := store[start:len(store):len(store)]
	for _, m := range s.needles {
		if bytes.Equal(m, n) {
			return
		}
	}
	s.needles = append(s.needles, n)
	s.offs = append(s.offs, start)
}

// minimize drops every needle that contains another: scrubbing the shorter
// one already removes it, and with no needle a prefix of another, at most
// one needle can match at any position, so the order of matching is
// never ambiguous.
func (s *Scrubber) minimize() {
	keep, offs := s.needles[:0], s.offs[:0]
	for i, n := range s.needles {
		redundant := false
		for j, m := range s.needles {
			if i != j && len(m) < len(n) && bytes.Contains(n, m) {
				redundant = true
				break
			}
		}
		if !redundant {
			keep, offs = append(keep, n), append(offs, s.offs[i])
		}
	}
	s.needles, s.offs = keep, offs
}

// Empty reports whether s has nothing to find.
func (s *Scrubber) Empty() bool { return s == nil || len(s.needles) == 0 }

// MaxLen is the length of the longest needle: a streaming scrubber holds
// back at most MaxLen-1 bytes.
func (s *Scrubber) MaxLen() int {
	if s == nil {
		return 0
	}
	return s.max
}

// Needles of s, for tests and for a caller that wants to look for them
// elsewhere. The slices must not be changed.
func (s *Scrubber) Needles() [][]byte {
	if s == nil {
		return nil
	}
	return s.needles
}

// fill writes the marker over b.
func fill(b []byte) {
	if len(b) < len(marker) {
		for i := range b {
			b[i] = '*'
		}
		return
	}
	n := copy(b, marker[:len(marker)-1])
	for i := n; i < len(b)-1; i++ {
		b[i] = '*'
	}
	b[len(b)-1] = marker[len(marker)-1]
}

// Marker returns what a match of length n becomes.
func Marker(n int) string {
	b := make([]byte, n)
	fill(b)
	return string(b)
}

// scan replaces, in place, every needle that lies wholly in b[from:], and
// returns the number replaced and hold: the offset from which b's tail is
// an unfinished prefix of a needle (len(b) when none is). When final, b
// ends the text: nothing is held and a prefix is left as it is.
func (s *Scrubber) scan(b []byte, from int, final bool) (n, hold int) {
	if s.Empty() {
		return 0, len(b)
	}
	// next[k] is where needle k next occurs at or after i (-1: nowhere);
	// a needle is searched again only when a match passed its position.
	var buf [32]int
	next := buf[:0]
	if len(s.needles) > len(buf) {
		next = make([]int, 0, len(s.needles))
	}
	for _, nd := range s.needles {
		j := bytes.Index(b[from:], nd)
		if j >= 0 {
			j += from
		}
		next = append(next, j)
	}
	i := from
	for {
		at, size := -1, 0
		for k, nd := range s.needles {
			if j := next[k]; j >= 0 && j < i {
				if j = bytes.Index(b[i:], nd); j >= 0 {
					j += i
				}
				next[k] = j
			}
			if j := next[k]; j >= 0 && (at < 0 || j < at) {
				at, size = j, len(nd)
			}
		}
		if at < 0 {
			break
		}
		fill(b[at : at+size])
		n++
		i = at + size
	}
	if final {
		return n, len(b)
	}
	// No needle lies wholly in b[i:]; the first position whose tail could
	// still become one is held back for the next chunk.
	for j := max(i, len(b)-s.max+1); j < len(b); j++ {
		if !s.first[b[j]] {
			continue
		}
		for _, nd := range s.needles {
			if len(nd) > len(b)-j && bytes.HasPrefix(nd, b[j:]) {
				return n, j
			}
		}
	}
	return n, len(b)
}

// Bytes replaces every needle in b in place and returns how many it
// replaced.
func (s *Scrubber) Bytes(b []byte) int {
	n, _ := s.scan(b, 0, true)
	return n
}

// String returns v with every needle replaced, and how many were; v itself
// (no copy) when there is none.
func (s *Scrubber) String(v string) (string, int) {
	if s.Empty() || !s.contains(v) {
		return v, 0
	}
	b := []byte(v)
	n := s.Bytes(b)
	return string(b), n
}

// contains reports whether v holds a needle.
func (s *Scrubber) contains(v string) bool {
	for _, nd := range s.strs {
		if strings.Contains(v, nd) {
			return true
		}
	}
	return false
}
