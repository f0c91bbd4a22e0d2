// SPDX-License-Identifier: Apache-2.0

package proxy

// The OpenAI-compatible routes change a request body in two ways before it
// goes upstream: a "provider/model" name becomes the provider's own model
// name, and a streamed chat call asks for the final usage chunk
// (stream_options.include_usage) so that it can be metered. Both used to
// decode the body into a map and encode it again, which cost a pass over
// the whole body and an allocation per member. editBody instead splices
// bytes at the spans scanHead recorded in its one pass, and copies the
// body once; everything it does not change is kept byte for byte.
//
// scanHead refuses a body in which a member the edits touch (model,
// stream, stream_options and its include_usage) appears twice or under a
// key in another case, so each edit has one member to change or none to
// add beside: the result means what the map round trip meant to any JSON
// decoder, whichever of other duplicates it keeps.

// span is a value's position in the body: body[start:end]. The zero span
// means the member is absent (every value of a member lies after the
// top-level '{', so a present one never ends at 0).
type span struct{ start, end int }

func (s span) ok() bool { return s.end > 0 }

// spans are the positions in a body that its edits need.
type spans struct {
	// open is just after the top-level '{': members are inserted there.
	open int
	// model is the value of the "model" member.
	model span
	// streamTrue: the "stream" member is true.
	streamTrue bool
	// opts is the value of the "stream_options" member.
	opts span
	// When opts is an object: whether it has no members, the value of
	// its "include_usage" member, and whether that is true.
	optsEmpty   bool
	include     span
	includeTrue bool
}

// member records a top-level member: name is its decoded key, val its raw
// value at offset start.
func (sp *spans) member(name []byte, start int, val []byte) {
	switch string(name) {
	case "model":
		sp.model = span{start, start + len(val)}
	case "stream":
		sp.streamTrue = string(val) == "true"
	case "stream_options":
		sp.opts = span{start, start + len(val)}
	}
}

// option records a member of the stream_options object.
func (sp *spans) option(name []byte, start int, val []byte) {
	if string(name) == "include_usage" {
		sp.include = span{start, start + len(val)}
		sp.includeTrue = string(val) == "true"
	}
}

// splice replaces body[start:end] with text, or, when quote is set, with
// pre, str as a JSON string, then post.
type splice struct {
	start, end int
	text       string
	quote      bool
	str, post  string
}

// len is the length of what e writes.
func (e splice) len() int {
	if e.quote {
		return len(e.text) + quotedLen(e.str) + len(e.post)
	}
	return len(e.text)
}

func (e splice) appendTo(out []byte) []byte {
	out = append(out, e.text...)
	if e.quote {
		out = appendString(out, e.str)
		out = append(out, e.post...)
	}
	return out
}

// modelSplice sets the body's "model" member to model: its value, or a
// new member when the body has none.
func (sp *spans) modelSplice(body []byte, model string) splice {
	if sp.model.ok() {
		return splice{start: sp.model.start, end: sp.model.end, quote: true, str: model}
	}
	post := ","
	if sp.emptyObject(body) {
		post = "" // {} becomes {"model":"..."}, with no comma before the '}'
	}
	return splice{start: sp.open, end: sp.open, text: `"model":`, quote: true, str: model, post: post}
}

// emptyObject reports whether the top-level object has no members: only
// JSON whitespace lies between its '{' and its '}'.
func (sp *spans) emptyObject(body []byte) bool {
	for i := sp.open; i < len(body); i++ {
		switch body[i] {
		case ' ', '\t', '\n', '\r':
		case '}':
			return true
		default:
			return false
		}
	}
	return false
}

// usageSplice asks a streamed body for its final usage chunk: it sets
// stream_options.include_usage to true, keeping the other stream options.
// ok is false when there is nothing to do: the body does not ask for a
// stream ("stream": true), or already asks for usage, or its
// stream_options is not an object (the provider refuses that on its own).
func (sp *spans) usageSplice(body []byte) (e splice, ok bool) {
	switch {
	case !sp.streamTrue:
		return e, false
	case !sp.opts.ok():
		return splice{start: sp.open, end: sp.open, text: `"stream_options":{"include_usage":true},`}, true
	case body[sp.opts.start] == 'n': // "stream_options": null
		return splice{start: sp.opts.start, end: sp.opts.end, text: `{"include_usage":true}`}, true
	case body[sp.opts.start] != '{', sp.includeTrue:
		return e, false
	case sp.include.ok(): // false, null or not a boolean
		return splice{start: sp.include.start, end: sp.include.end, text: "true"}, true
	case sp.optsEmpty:
		at := sp.opts.start + 1
		return splice{start: at, end: at, text: `"include_usage":true`}, true
	default:
		at := sp.opts.start + 1
		return splice{start: at, end: at, text: `"include_usage":true,`}, true
	}
}

// editBody returns body with its edits: the model set to model when
// setModel, and stream_options.include_usage turned on when includeUsage
// and the body asks for a stream without it (then added is true: the
// caller did not ask for the usage chunk, so the proxy strips it from the
// stream again). h is body's head, from scanHead. With nothing to change,
// body itself is returned; otherwise a copy, made in one allocation.
func editBody(body []byte, h *head, model string, setModel, includeUsage bool) (out []byte, added bool) {
	var edits [2]splice
	n := 0
	if setModel {
		edits[n] = h.at.modelSplice(body, model)
		n++
	}
	if includeUsage {
		if e, ok := h.at.usageSplice(body); ok {
			edits[n] = e
			n++
			added = true
		}
	}
	if n == 0 {
		return body, false
	}
	if n == 2 && edits[1].start < edits[0].start {
		edits[0], edits[1] = edits[1], edits[0]
	}
	size := len(body)
	for _, e := range edits[:n] {
		size += e.len() - (e.end - e.start)
	}
	out = make([]byte, 0, size)
	last := 0
	for _, e := range edits[:n] {
		out = append(out, body[last:e.start]...)
		out = e.appendTo(out)
		last = e.end
	}
	return append(out, body[last:]...), added
}

// quotedLen is the length of appendString's output for s.
func quotedLen(s string) int {
	n := len(s) + 2
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"', c == '\\', c == '\n', c == '\r', c == '\t':
			n++
		case c < 0x20:
			n += 5
		}
	}
	return n
}

// appendString appends s, which is valid UTF-8 (a model name as scanHead
// decoded it), as a JSON string: quotes, backslashes and control
// characters escaped, everything else as it is.
func appendString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		out = append(out, s[start:i]...)
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}
