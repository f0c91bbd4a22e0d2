// SPDX-License-Identifier: Apache-2.0

package usage

// This file holds an incremental, validating JSON scanner that picks the
// token counts out of a response as the bytes go by. It never holds the
// document: its state is a fixed-size struct, so metering a body of any
// size costs no memory and no allocation. It follows RFC 8259 as
// encoding/json's scanner does (the tests hold the two to the same verdict),
// except that nesting deeper than maxDepth is rejected.

// field indexes the counts the scanner captures.
type field uint8

const (
	fPromptTokens       field = iota // openai usage.prompt_tokens (includes cached)
	fCompletionTokens                // openai usage.completion_tokens
	fInputTokens                     // openai responses and anthropic usage.input_tokens
	fOutputTokens                    // openai responses and anthropic usage.output_tokens
	fCacheRead                       // anthropic usage.cache_read_input_tokens
	fCacheCreation                   // anthropic usage.cache_creation_input_tokens
	fCachedTokens                    // openai usage.{prompt,input}_tokens_details.cached_tokens
	fPromptCount                     // gemini usageMetadata.promptTokenCount (includes cached)
	fCandidatesCount                 // gemini usageMetadata.candidatesTokenCount
	fCachedContentCount              // gemini usageMetadata.cachedContentTokenCount
	fThoughtsCount                   // gemini usageMetadata.thoughtsTokenCount
	fToolPromptCount                 // gemini usageMetadata.toolUsePromptTokenCount
	numFields
	noField = numFields
)

// Masks of the field families.
const (
	openAIChatMask = 1<<fPromptTokens | 1<<fCompletionTokens
	messagesMask   = 1<<fInputTokens | 1<<fOutputTokens | 1<<fCacheRead | 1<<fCacheCreation
	geminiMask     = 1<<fPromptCount | 1<<fCandidatesCount | 1<<fCachedContentCount | 1<<fThoughtsCount | 1<<fToolPromptCount
)

// maxModel bounds a captured model name; a longer one is not captured.
const maxModel = 128

// fields is what one JSON value (or several, merged) said about usage.
type fields struct {
	v   [numFields]int64
	set uint16 // bit f: v[f] was reported

	model    [maxModel]byte
	modelLen uint8
	hasModel bool

	// emptyChoices: the value had "choices": [] at its root (the extra
	// usage-only chunk of an OpenAI stream).
	emptyChoices bool
}

// merge overwrites f with every count src reported: later events win field
// by field (an Anthropic message_delta carries only output_tokens, which
// replaces the one of message_start).
func (f *fields) merge(src *fields) {
	for i := field(0); i < numFields; i++ {
		if src.set&(1<<i) != 0 {
			f.v[i] = src.v[i]
		}
	}
	f.set |= src.set
	if src.hasModel {
		f.model, f.modelLen, f.hasModel = src.model, src.modelLen, true
	}
	f.emptyChoices = src.emptyChoices
}

// node is the role of an open container in the paths the scanner follows.
type node uint8

const (
	nOther     node = iota
	nRoot           // a top-level object, or an object element of a top-level array
	nRootArray      // a top-level array (Gemini's non-SSE streamGenerateContent)
	nWrap           // root.message (Anthropic message_start) or root.response (OpenAI Responses events)
	nUsage          // usage (OpenAI, Anthropic)
	nDetails        // usage.prompt_tokens_details, usage.input_tokens_details
	nGemini         // usageMetadata
	nChoices        // root.choices
)

// target is what the value after a key is: an object to follow, a count, or
// the model name.
type target struct {
	node  node
	field field
	model bool
}

var noTarget = target{field: noField} // immutable

// child returns the target of key inside a container of role n. Keys are
// compared as raw bytes: a key spelled with escapes is not recognised, which
// no provider does.
func child(n node, key []byte) target {
	t := noTarget
	switch n {
	case nRoot:
		switch string(key) {
		case "usage":
			t.node = nUsage
		case "usageMetadata":
			t.node = nGemini
		case "message", "response":
			t.node = nWrap
		case "model", "modelVersion":
			t.model = true
		case "choices":
			t.node = nChoices
		}
	case nWrap:
		switch string(key) {
		case "usage":
			t.node = nUsage
		case "model":
			t.model = true
		}
	case nUsage:
		switch string(key) {
		case "prompt_tokens":
			t.field = fPromptTokens
		case "completion_tokens":
			t.field = fCompletionTokens
		case "input_tokens":
			t.field = fInputTokens
		case "output_tokens":
			t.field = fOutputTokens
		case "cache_read_input_tokens":
			t.field = fCacheRead
		case "cache_creation_input_tokens":
			t.field = fCacheCreation
		case "prompt_tokens_details", "input_tokens_details":
			t.node = nDetails
		}
	case nDetails:
		if string(key) == "cached_tokens" {
			t.field = fCachedTokens
		}
	case nGemini:
		switch string(key) {
		case "promptTokenCount":
			t.field = fPromptCount
		case "candidatesTokenCount":
			t.field = fCandidatesCount
		case "cachedContentTokenCount":
			t.field = fCachedContentCount
		case "thoughtsTokenCount":
			t.field = fThoughtsCount
		case "toolUsePromptTokenCount":
			t.field = fToolPromptCount
		}
	}
	return t
}

// Scanner states.
const (
	sValue     uint8 = iota // a value is expected
	sFirstKey               // after '{': a key or '}'
	sKey                    // after ',' in an object: a key
	sColon                  // after a key: ':'
	sAfter                  // after a value: ',' or a closing bracket, or the end
	sFirstElem              // after '[': a value or ']'
	sString                 // inside a string
	sEscape                 // after '\' in a string
	sUnicode                // inside \uXXXX
	sNumMinus               // after a leading '-'
	sNumZero                // after a leading '0'
	sNumInt                 // in the integer digits
	sNumDot                 // after '.'
	sNumFrac                // in the fraction digits
	sNumE                   // after 'e' or 'E'
	sNumESign               // after the exponent sign
	sNumExp                 // in the exponent digits
	sLiteral                // inside true, false or null
	sFail                   // not JSON: nothing more is read
)

const (
	maxDepth  = 512 // deeper nesting is rejected
	nodeDepth = 8   // roles are tracked this deep; deeper containers are nOther
	maxKey    = 32  // longer keys are never ones the scanner follows
	maxDigits = 18  // a longer count is not captured (it would not fit an int64)
)

// scanner reads one JSON text incrementally. The zero value is ready.
type scanner struct {
	state   uint8
	depth   int
	started bool // a top-level value has begun
	arrays  [maxDepth / 64]uint64
	nodes   [nodeDepth]node
	next    target // target of the value about to start

	// the string being read
	isKey  bool
	capStr bool // capturing the model name
	strOK  bool
	strLen int
	str    [maxModel]byte
	hex    uint8

	// the number being read
	numField field
	num      int64
	numOK    bool
	digits   uint8

	lit    string
	litPos uint8

	staged fields // the open root object
	done   fields // every root object closed so far, merged
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// write feeds p to the scanner.
func (s *scanner) write(p []byte) {
	for i := 0; i < len(p); {
		c := p[i]
		switch s.state {
		case sFail:
			return
		case sValue, sFirstElem:
			if isSpace(c) {
				i++
				continue
			}
			if s.state == sFirstElem && c == ']' {
				s.pop()
				i++
				continue
			}
			s.beginValue(c)
			i++
		case sFirstKey, sKey:
			switch {
			case isSpace(c):
			case c == '"':
				s.beginString(true, false)
			case c == '}' && s.state == sFirstKey:
				s.pop()
			default:
				s.state = sFail
			}
			i++
		case sColon:
			switch {
			case isSpace(c):
			case c == ':':
				s.state = sValue
			default:
				s.state = sFail
			}
			i++
		case sAfter:
			i++
			if isSpace(c) {
				continue
			}
			if s.depth == 0 {
				s.state = sFail // only space may follow the top-level value
				continue
			}
			inArray := s.inArray()
			switch {
			case c == ',' && inArray:
				s.state = sValue
			case c == ',':
				s.state = sKey
			case c == ']' && inArray, c == '}' && !inArray:
				s.pop()
			default:
				s.state = sFail
			}
		case sString:
			// Fast path: copy or skip plain bytes up to a quote, an escape
			// or a control character.
			j := i
			for j < len(p) && p[j] != '"' && p[j] != '\\' && p[j] >= 0x20 {
				j++
			}
			s.capture(p[i:j])
			i = j
			if i == len(p) {
				continue
			}
			switch c = p[i]; {
			case c == '"':
				s.endString()
			case c == '\\':
				s.strOK = false // escaped keys and names are never captured
				s.state = sEscape
			default:
				s.state = sFail
			}
			i++
		case sEscape:
			switch c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.state = sString
			case 'u':
				s.state, s.hex = sUnicode, 0
			default:
				s.state = sFail
			}
			i++
		case sUnicode:
			if !isHex(c) {
				s.state = sFail
			} else if s.hex++; s.hex == 4 {
				s.state = sString
			}
			i++
		case sLiteral:
			if c != s.lit[s.litPos] {
				s.state = sFail
			} else if s.litPos++; int(s.litPos) == len(s.lit) {
				s.endValue()
			}
			i++
		default: // numbers
			if s.number(c) {
				i++
			} else if s.state != sFail {
				s.endNumber() // c ends the number; read it again as what follows
			}
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (s *scanner) inArray() bool {
	d := s.depth - 1
	return s.arrays[d/64]&(1<<(d%64)) != 0
}

func (s *scanner) top() node {
	if s.depth == 0 || s.depth > nodeDepth {
		return nOther
	}
	return s.nodes[s.depth-1]
}

// beginValue starts the value whose first byte is c.
func (s *scanner) beginValue(c byte) {
	if s.depth == 0 {
		if s.started {
			s.state = sFail
			return
		}
		s.started = true
	}
	t := s.next
	s.next = noTarget
	if s.top() == nChoices {
		s.staged.emptyChoices = false
	}
	switch {
	case c == '{':
		s.push(false, t.node)
	case c == '[':
		s.push(true, t.node)
	case c == '"':
		s.beginString(false, t.model)
	case c == '-':
		s.state, s.numField, s.numOK = sNumMinus, t.field, false // negative counts are not counts
	case c >= '0' && c <= '9':
		s.state, s.numField, s.numOK, s.num, s.digits = sNumInt, t.field, true, int64(c-'0'), 1
		if c == '0' {
			s.state = sNumZero
		}
	case c == 't':
		s.state, s.lit, s.litPos = sLiteral, "true", 1
	case c == 'f':
		s.state, s.lit, s.litPos = sLiteral, "false", 1
	case c == 'n':
		s.state, s.lit, s.litPos = sLiteral, "null", 1
	default:
		s.state = sFail
	}
}

// push opens a container. role is the target's node for an object after a
// key; arrays and objects elsewhere get their role from their position.
func (s *scanner) push(array bool, role node) {
	if s.depth == maxDepth {
		s.state = sFail
		return
	}
	parent := s.top()
	switch {
	case s.depth == 0 && array:
		role = nRootArray
	case s.depth == 0:
		role = nRoot
	case s.depth > 0 && s.inArray():
		role = nOther
		if parent == nRootArray && !array {
			role = nRoot
		}
	case array != (role == nChoices):
		role = nOther // only "choices" is followed as an array
	}
	d := s.depth
	if array {
		s.arrays[d/64] |= 1 << (d % 64)
		s.state = sFirstElem
	} else {
		s.arrays[d/64] &^= 1 << (d % 64)
		s.state = sFirstKey
	}
	if d < nodeDepth {
		s.nodes[d] = role
	}
	s.depth++
	switch role {
	case nRoot:
		s.staged = fields{}
	case nChoices:
		s.staged.emptyChoices = true
	}
}

// pop closes the innermost container.
func (s *scanner) pop() {
	if s.top() == nRoot {
		s.done.merge(&s.staged)
		s.staged = fields{}
	}
	s.depth--
	s.endValue()
}

func (s *scanner) endValue() { s.state = sAfter }

func (s *scanner) beginString(key, model bool) {
	s.state, s.isKey, s.capStr, s.strOK, s.strLen = sString, key, key || model, true, 0
}

// capture appends b to the key or model name being read, if it fits.
func (s *scanner) capture(b []byte) {
	if !s.capStr || !s.strOK {
		return
	}
	limit := maxModel
	if s.isKey {
		limit = maxKey
	}
	if s.strLen+len(b) > limit {
		s.strOK = false
		return
	}
	s.strLen += copy(s.str[s.strLen:], b)
}

func (s *scanner) endString() {
	switch {
	case s.isKey:
		s.next = noTarget
		if s.strOK {
			s.next = child(s.top(), s.str[:s.strLen])
		}
		s.state = sColon
		return
	case s.capStr && s.strOK && s.strLen > 0:
		st := &s.staged
		st.modelLen = uint8(copy(st.model[:], s.str[:s.strLen]))
		st.hasModel = true
	}
	s.endValue()
}

// number advances the number state machine by c and reports whether c is
// part of the number. It sets sFail when c cannot follow.
func (s *scanner) number(c byte) bool {
	digit := c >= '0' && c <= '9'
	switch s.state {
	case sNumMinus:
		switch {
		case c == '0':
			s.state = sNumZero
		case digit:
			s.state = sNumInt
		default:
			s.state = sFail
		}
		return true
	case sNumZero, sNumInt:
		switch {
		case digit && s.state == sNumInt:
			if s.digits++; s.digits > maxDigits {
				s.numOK = false
			}
			s.num = s.num*10 + int64(c-'0')
			return true
		case c == '.':
			s.state, s.numOK = sNumDot, false // counts are integers
			return true
		case c == 'e' || c == 'E':
			s.state, s.numOK = sNumE, false
			return true
		}
		return false // digits after a leading 0 end it, and then fail as what follows
	case sNumDot:
		s.state = sNumFrac
		if !digit {
			s.state = sFail
		}
		return true
	case sNumFrac:
		switch {
		case digit:
			return true
		case c == 'e' || c == 'E':
			s.state = sNumE
			return true
		}
		return false
	case sNumE:
		switch {
		case c == '+' || c == '-':
			s.state = sNumESign
		case digit:
			s.state = sNumExp
		default:
			s.state = sFail
		}
		return true
	case sNumESign:
		if !digit {
			s.state = sFail
			return true
		}
		s.state = sNumExp
		return true
	case sNumExp:
		return digit
	}
	s.state = sFail
	return false
}

// endNumber completes a number that the byte after it (or the end of the
// input) has closed.
func (s *scanner) endNumber() {
	if s.numOK && s.numField != noField {
		s.staged.v[s.numField] = s.num
		s.staged.set |= 1 << s.numField
	}
	s.endValue()
}
