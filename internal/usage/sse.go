// SPDX-License-Identifier: Apache-2.0

package usage

// This file parses a text/event-stream incrementally, as the HTML Living
// Standard's "event stream interpretation" does: lines end with CRLF, LF or
// CR (a CRLF may be split between two writes); a line that starts with ':'
// is a comment; "field: value" loses one space after the colon; the data
// lines of an event are joined with "\n"; an empty line dispatches the
// event. The data of each event goes straight into a JSON scanner, so no
// line or event is ever buffered.

// Line modes.
const (
	lineField     uint8 = iota // reading the field name
	lineData                   // feeding a data value to the scanner
	lineDataSpace              // right after "data:": one space may follow
	lineSkip                   // a comment or a field other than data
)

// sseParser reads an event stream and merges the usage of each dispatched
// event into merged. The zero value is ready.
type sseParser struct {
	bom       uint8 // bytes of a leading UTF-8 BOM seen; 3 or more: past it
	mode      uint8
	afterCR   bool // the previous byte ended a line with CR
	lineLen   int  // bytes in the current line so far
	name      [4]byte
	nameLen   int
	dataLines int // data lines in the current event

	sc     scanner
	merged fields
}

const dataName = "data"

var bom = [3]byte{0xEF, 0xBB, 0xBF} // immutable

func (p *sseParser) write(b []byte) {
	// A UTF-8 byte order mark before the first line is not part of it.
	for p.bom < 3 && len(b) > 0 {
		if b[0] != bom[p.bom] {
			// No BOM. (The bytes of a partial one are dropped: they could
			// only have been garbage in the first line.)
			p.bom = 3
			break
		}
		p.bom++
		b = b[1:]
	}
	for i := 0; i < len(b); {
		c := b[i]
		if p.afterCR {
			p.afterCR = false
			if c == '\n' { // the LF of a CRLF
				i++
				continue
			}
		}
		if c == '\r' || c == '\n' {
			p.endLine()
			p.afterCR = c == '\r'
			i++
			continue
		}
		switch p.mode {
		case lineData:
			j := i
			for j < len(b) && b[j] != '\r' && b[j] != '\n' {
				j++
			}
			p.sc.write(b[i:j])
			p.lineLen += j - i
			i = j
			continue
		case lineDataSpace:
			p.mode = lineData
			if c == ' ' {
				p.lineLen++
				i++
			}
			continue
		case lineSkip:
			for i < len(b) && b[i] != '\r' && b[i] != '\n' {
				i++
				p.lineLen++
			}
			continue
		}
		// lineField
		p.lineLen++
		i++
		if c == ':' {
			if p.isData() {
				p.beginData()
				p.mode = lineDataSpace
			} else {
				p.mode = lineSkip // a comment (empty name) or another field
			}
			continue
		}
		if p.nameLen < len(p.name) {
			p.name[p.nameLen] = c
		}
		p.nameLen++
	}
}

func (p *sseParser) isData() bool {
	return p.nameLen == len(dataName) && string(p.name[:]) == dataName
}

// beginData starts a data line: lines after the first are joined with "\n".
func (p *sseParser) beginData() {
	if p.dataLines > 0 {
		p.sc.write(newline)
	}
	p.dataLines++
}

var newline = []byte{'\n'} // immutable

// endLine ends the current line; an empty one dispatches the event.
func (p *sseParser) endLine() {
	switch {
	case p.lineLen == 0:
		p.dispatch()
	case p.mode == lineField && p.isData():
		p.beginData() // "data" with no colon: an empty data line
	}
	p.mode, p.lineLen, p.nameLen = lineField, 0, 0
}

// dispatch merges what the event's data said and starts a new event.
func (p *sseParser) dispatch() {
	if p.dataLines == 0 {
		return
	}
	p.merged.merge(&p.sc.done)
	p.sc = scanner{}
	p.dataLines = 0
}

// close ends the stream: an unterminated last line counts as a line, and a
// last event without its empty line is dispatched. Its data still has to be
// a complete JSON object to count, so a stream cut inside an event adds
// nothing.
func (p *sseParser) close() {
	if p.lineLen > 0 {
		p.endLine()
	}
	p.afterCR = false
	p.dispatch()
}
