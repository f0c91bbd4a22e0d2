// SPDX-License-Identifier: Apache-2.0

package usage

import (
	"encoding/json"
	"strings"
	"testing"
)

// scanValid reports whether the scanner, fed b split at split, takes b for
// one complete JSON text.
func scanValid(b []byte, split int) bool {
	var s scanner
	split = min(split, len(b))
	s.write(b[:split])
	s.write(b[split:])
	return s.finish()
}

// finish reports whether the input so far is one complete JSON text, as at
// the end of the input: a top-level number ends there.
func (s *scanner) finish() bool {
	switch s.state {
	case sNumZero, sNumInt, sNumFrac, sNumExp:
		if s.depth == 0 {
			s.endNumber()
		}
	}
	return s.started && s.depth == 0 && s.state == sAfter
}

// TestScannerValid holds the scanner to encoding/json's verdict.
func TestScannerValid(t *testing.T) {
	tests := []string{
		``, ` `, `{}`, `[]`, `{"a":1}`, `{"a":1,}`, `{,}`, `[1,]`, `[,1]`, `{"a"}`, `{"a":}`, `{1:2}`,
		`0`, `-0`, `01`, `-`, `1.`, `1.5`, `1e`, `1e+`, `1e+5`, `1E-5`, `.5`, `-a`, `1 2`, ` 1 `,
		`true`, `tru`, `truex`, `null`, `nul`, `false`, `[true,false,null]`,
		`"a"`, `"a`, `"\u00e9"`, `"\u00g9"`, `"\x"`, `"\/\b\f\n\r\t\"\\"`, "\"a\tb\"", "\"\x7f\"", "\"\xff\"",
		`{"a":[1,{"b":[]}],"c":{}}`, `{"a":[1,{"b":[]}],"c":{}`, `[[[[]]]]`, `[[[[]]]`, `{}}`, `[]]`, `{]`, `[}`,
		`{"usage":{"prompt_tokens":1}} x`, `{"usage":{"prompt_tokens":1}}{}`,
		strings.Repeat("[", 100) + strings.Repeat("]", 100),
	}
	for _, in := range tests {
		want := json.Valid([]byte(in))
		for split := 0; split <= len(in); split++ {
			if got := scanValid([]byte(in), split); got != want {
				t.Fatalf("%q split at %d: valid = %v, encoding/json says %v", in, split, got, want)
			}
		}
	}
}

func TestScannerDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	if scanValid([]byte(deep), 0) {
		t.Errorf("nesting of %d accepted, want rejected past %d", maxDepth+1, maxDepth)
	}
	ok := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if !scanValid([]byte(ok), 0) {
		t.Errorf("nesting of %d rejected", maxDepth)
	}
}

// FuzzScanner checks the scanner against encoding/json on any input, split
// anywhere.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{`{"usage":{"prompt_tokens":1}}`, `[1,2.5e3,"x\u00e9",true,null]`, `{"a":`, `-01`} {
		f.Add([]byte(s), uint16(3))
	}
	f.Fuzz(func(t *testing.T, b []byte, split uint16) {
		if strings.Count(string(b), "[")+strings.Count(string(b), "{") >= maxDepth {
			t.Skip("deeper than the scanner's limit")
		}
		if got, want := scanValid(b, int(split)), json.Valid(b); got != want {
			t.Fatalf("%q split at %d: valid = %v, encoding/json says %v", b, split, got, want)
		}
	})
}
