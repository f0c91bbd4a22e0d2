// SPDX-License-Identifier: Apache-2.0

package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"unicode/utf8"
)

// head is the part of a request body keygate reads: the model, whether a
// stream is asked for, the output cap that a governed call's estimate
// uses, and the end user the caller named.
type head struct {
	Model  string
	Stream bool
	// User is OpenAI's top-level user member and MetaUser Anthropic's
	// metadata.user_id ("" when absent or null); each route reads its
	// own dialect's.
	User     string
	MetaUser string
	// MaxOut is the first non-negative of max_completion_tokens,
	// max_tokens and max_output_tokens, when HasMaxOut.
	MaxOut    int64
	HasMaxOut bool
	// at is where the body's edits go (see editBody), recorded in the
	// same pass.
	at spans
}

// errNotJSON is what scanHead returns for a body that encoding/json would
// refuse to decode into head.
var errNotJSON = errors.New("not valid JSON for this endpoint")

// scanHead reads head from body in one pass, without reflection and
// without allocating (but for a model name), and records the spans that
// editBody splices. It accepts and refuses
// exactly what json.Unmarshal into
//
//	struct{ Model string `json:"model"`; Stream bool `json:"stream"` }
//
// accepts and refuses, with
//
//	User     string `json:"user"`
//	Metadata *struct{ UserID string `json:"user_id"` } `json:"metadata"`
//
// besides (the whole body is validated; null leaves a field as
// it was; a top-level null is an empty head), and reads the max-tokens
// fields as json.Unmarshal into *int64 fields would (any of them present
// but not an integer voids all three). The decoder it replaces cost about
// 12 ns per body byte and several allocations; this costs a fraction of
// that, so a long prompt is not parsed twice over on the hot path.
//
// Beyond that, a body that json.Unmarshal would accept is refused with a
// *duplicateField when a member keygate reads (see readField, include_usage
// in stream_options and user_id in metadata) appears twice or under a key that
// differs from its name only in case ("Model", or a Kelvin sign for a k,
// which encoding/json folds): keygate meters and routes by the value it
// reads, and a provider whose decoder takes the first duplicate, or
// matches keys exactly, would run the call on another one.
func scanHead(body []byte) (head, error) {
	s := headScanner{b: body}
	var h head
	s.skipSpace()
	if s.i >= len(s.b) {
		return h, errNotJSON
	}
	switch s.b[s.i] {
	case '{':
		if err := s.object(&h); err != nil {
			return head{}, err
		}
	case 'n':
		if err := s.literal("null"); err != nil {
			return head{}, err
		}
	default:
		// Any other value is valid JSON of the wrong type for a struct:
		// json.Unmarshal refuses it too (after checking it is valid).
		return head{}, errNotJSON
	}
	s.skipSpace()
	if s.i != len(s.b) {
		return head{}, errNotJSON
	}
	if s.dup != "" {
		return head{}, &duplicateField{name: s.dup}
	}
	h.MaxOut, h.HasMaxOut = s.maxOut()
	return h, nil
}

// seenIncludeUsage and seenMetaUserID are the bits of headScanner.seen for
// include_usage in stream_options and user_id in metadata; readField gives
// the others.
const (
	seenIncludeUsage = 1 << 8
	seenMetaUserID   = 1 << 9
)

// duplicateField is scanHead's answer to a body in which a member keygate
// reads appears twice or in another case. name is the member's own name
// (never the key as sent, nor a value).
type duplicateField struct{ name string }

func (e *duplicateField) Error() string {
	return "the body has " + e.name + " twice or in another case"
}

// headScanner walks one JSON document.
type headScanner struct {
	b []byte
	i int
	// Raw values of the max-tokens fields, nil when absent.
	maxCompletion, maxTokens, maxOutput []byte
	// seen has a bit for each member keygate reads met so far (readField's
	// bits and seenIncludeUsage); dup names the first member met twice or in
	// another case, which refuses the body once it is known to be
	// otherwise valid (a body that is not JSON is refused as such).
	seen uint
	dup  string
}

// once records that the member name, whose bit in seen is bit, was met,
// under its exact name or (not exact) another case of it; the second
// time, or in another case, the body is marked for refusal.
func (s *headScanner) once(name string, bit uint, exact bool) {
	if (!exact || s.seen&bit != 0) && s.dup == "" {
		s.dup = name
	}
	s.seen |= bit
}

// Which object members reads: the top-level one (into head), the value of
// its stream_options member (for spans), of its metadata member (for
// user_id), or any other (only validated).
const (
	inTop = iota
	inStreamOptions
	inMetadata
	inOther
)

func (s *headScanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object reads the top-level object into h.
func (s *headScanner) object(h *head) error {
	h.at.open = s.i + 1
	return s.members(h, inTop, 1)
}

// key returns the name of the key rawKey (with its quotes), decoded when
// it has escapes (rare: only then does it allocate).
func key(rawKey []byte, escaped bool) ([]byte, error) {
	if !escaped {
		return rawKey[1 : len(rawKey)-1], nil
	}
	var k string
	if err := json.Unmarshal(rawKey, &k); err != nil {
		return nil, errNotJSON
	}
	return []byte(k), nil
}

// field applies one top-level member: name is its decoded key, val the
// value as it appears, at offset start of the body.
func (s *headScanner) field(h *head, name []byte, start int, val []byte) error {
	field, bit := readField(name)
	if bit == 0 {
		return nil // not a member keygate reads: passed through as it is
	}
	s.once(field, bit, string(name) == field)
	h.at.member(name, start, val)
	switch field {
	case "model":
		return stringValue(val, &h.Model)
	case "user":
		return stringValue(val, &h.User)
	case "metadata":
		if val[0] != '{' && val[0] != 'n' {
			return errNotJSON // members read its object already
		}
	case "stream":
		switch val[0] {
		case 'n':
		case 't':
			h.Stream = true
		case 'f':
			h.Stream = false
		default:
			return errNotJSON
		}
	case "max_completion_tokens":
		s.maxCompletion = val
	case "max_tokens":
		s.maxTokens = val
	case "max_output_tokens":
		s.maxOutput = val
	}
	return nil
}

// stringValue decodes val, a JSON value, into *dst as json.Unmarshal into
// a string field would: null leaves it as it was, anything but a string is
// refused.
func stringValue(val []byte, dst *string) error {
	switch val[0] {
	case 'n': // null: unchanged
	case '"':
		inner := val[1 : len(val)-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			*dst = string(inner)
		} else {
			// Escapes or invalid UTF-8 (replaced by U+FFFD): rare, so the
			// decoder does it, into a local so that h stays on the
			// caller's stack.
			var m string
			if err := json.Unmarshal(val, &m); err != nil {
				return errNotJSON
			}
			*dst = m
		}
	default:
		return errNotJSON
	}
	return nil
}

// readField returns the top-level member keygate reads that key (decoded)
// names, matched ignoring case as encoding/json matches keys to field
// names, and its bit in headScanner.seen; bit is 0 when keygate does not
// read it.
func readField(key []byte) (name string, bit uint) {
	for i, f := range [...]string{"model", "stream", "max_completion_tokens", "max_tokens", "max_output_tokens", "stream_options", "user", "metadata"} {
		if fold(key, f) {
			return f, 1 << i
		}
	}
	return "", 0
}

// fold reports whether b equals name ignoring case, as encoding/json
// matches keys to field names.
func fold(b []byte, name string) bool {
	if len(b) == len(name) {
		match := true
		for i := 0; i < len(b); i++ {
			c := b[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != name[i] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	// Non-ASCII keys can still fold to an ASCII name (the Kelvin sign to
	// k, the long s to s).
	return !isASCII(b) && strings.EqualFold(string(b), name)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// maxOut is the estimate's output cap, decoded as json.Unmarshal would into
// *int64 fields: if any field holds something other than null or an int64,
// none counts.
func (s *headScanner) maxOut() (int64, bool) {
	var vals [3]int64
	var set [3]bool
	for i, raw := range [3][]byte{s.maxCompletion, s.maxTokens, s.maxOutput} {
		if raw == nil || raw[0] == 'n' {
			continue
		}
		v, ok := parseInt64(raw)
		if !ok {
			return 0, false
		}
		vals[i], set[i] = v, true
	}
	for i, v := range vals {
		if set[i] && v >= 0 {
			return v, true
		}
	}
	return 0, false
}

// parseInt64 is strconv.ParseInt(string(b), 10, 64) without the copy: it
// accepts an optional minus sign and decimal digits, within int64.
func parseInt64(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	switch {
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	case neg && u <= 1<<63:
		return -int64(u), true // -(1<<63) wraps to itself: MinInt64
	}
	return 0, false
}

// maxDepth bounds nesting as encoding/json does (10000 levels, the
// top-level object being the first), so a body of nested brackets cannot
// exhaust the stack.
const maxDepth = 10000

// value skips one value, validating it.
func (s *headScanner) value(depth int) error {
	if s.i >= len(s.b) {
		return errNotJSON
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, err := s.str()
		return err
	case c == '{':
		if depth+1 > maxDepth {
			return errNotJSON
		}
		return s.skipObject(depth + 1)
	case c == '[':
		if depth+1 > maxDepth {
			return errNotJSON
		}
		return s.skipArray(depth + 1)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	}
	return errNotJSON
}

func (s *headScanner) skipObject(depth int) error { return s.members(nil, inOther, depth) }

// members reads an object at depth (the top-level one is depth 1, read
// with in == inTop). Each member of the top-level object also goes to
// field, the value of its stream_options member, when an object, is
// read with in == inStreamOptions to record its include_usage, and that of
// its metadata member (under any case, as encoding/json would decode it)
// with in == inMetadata to read its user_id.
func (s *headScanner) members(h *head, in, depth int) error {
	s.i++ // '{'
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	if in == inStreamOptions {
		h.at.optsEmpty = false
	}
	for {
		s.skipSpace()
		keyStart := s.i
		escaped, err := s.str()
		if err != nil {
			return err
		}
		rawKey := s.b[keyStart:s.i]
		s.skipSpace()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errNotJSON
		}
		s.i++
		s.skipSpace()
		valStart := s.i
		var name []byte
		if in != inOther {
			if name, err = key(rawKey, escaped); err != nil {
				return err
			}
		}
		switch {
		case in == inTop && string(name) == "stream_options" && s.i < len(s.b) && s.b[s.i] == '{':
			h.at.optsEmpty = true
			err = s.members(h, inStreamOptions, depth+1)
		case in == inTop && s.i < len(s.b) && s.b[s.i] == '{' && fold(name, "metadata"):
			err = s.members(h, inMetadata, depth+1)
		default:
			err = s.value(depth)
		}
		if err != nil {
			return err
		}
		switch in {
		case inTop:
			if err := s.field(h, name, valStart, s.b[valStart:s.i]); err != nil {
				return err
			}
		case inStreamOptions:
			if fold(name, "include_usage") {
				s.once("stream_options.include_usage", seenIncludeUsage, string(name) == "include_usage")
			}
			h.at.option(name, valStart, s.b[valStart:s.i])
		case inMetadata:
			if fold(name, "user_id") {
				s.once("metadata.user_id", seenMetaUserID, string(name) == "user_id")
				if err := stringValue(s.b[valStart:s.i], &h.MetaUser); err != nil {
					return err
				}
			}
		}
		s.skipSpace()
		if s.i >= len(s.b) {
			return errNotJSON
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errNotJSON
		}
	}
}

func (s *headScanner) skipArray(depth int) error {
	s.i++ // '['
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		s.skipSpace()
		if err := s.value(depth); err != nil {
			return err
		}
		s.skipSpace()
		if s.i >= len(s.b) {
			return errNotJSON
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errNotJSON
		}
	}
}

// str skips a string starting at s.i (which must be '"') and reports
// whether it has escapes.
func (s *headScanner) str() (escaped bool, err error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false, errNotJSON
	}
	s.i++
	for s.i < len(s.b) {
		// Fast path: plain bytes.
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return escaped, nil
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return escaped, errNotJSON
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return escaped, errNotJSON
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !isHex(h) {
						return escaped, errNotJSON
					}
				}
				s.i += 6
			default:
				return escaped, errNotJSON
			}
		case c < 0x20:
			return escaped, errNotJSON
		default:
			s.i++
		}
	}
	return escaped, errNotJSON
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func (s *headScanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return errNotJSON
	}
	s.i += len(lit)
	return nil
}

// number skips a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *headScanner) number() error {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return errNotJSON
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return errNotJSON
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return errNotJSON
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	s.i = i
	return nil
}
