// SPDX-License-Identifier: Apache-2.0

package keygate_test

import (
	"strings"
	"testing"

	"github.com/keygate/keygate"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"Plain", "ci deploy", true},
		{"Unicode", "équipe données 東京", true},
		{"Emoji", "prod 🚀", true},
		{"Empty", "", true}, // emptiness is the caller's rule
		{"NUL", "a\x00b", false},
		{"BEL", "a\ab", false},
		{"LF", "a\nb", false},
		{"CR", "a\rb", false},
		{"Tab", "a\tb", false},
		{"ESC", "\x1b[31mred", false},
		{"DEL", "a\x7fb", false},
		{"C1CSI", "a\u009bb", false},
		{"RLO", "gpt\u202Egnp.exe", false},
		{"ZeroWidth", "ad\u200bmin", false},
		{"BOM", "\ufeffname", false},
		{"LineSeparator", "a\u2028b", false},
		{"InvalidUTF8", "a\xffb", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := keygate.ValidateName("name", tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateName(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err == nil {
				return
			}
			if keygate.ErrorCode(err) != keygate.CodeInvalidRequest || !strings.HasPrefix(keygate.ErrorMessage(err), "name ") {
				t.Errorf("error %v: want invalid_request naming the field", err)
			}
			if tc.in != "" && strings.Contains(keygate.ErrorMessage(err), tc.in) {
				t.Errorf("error %q echoes the value", keygate.ErrorMessage(err))
			}
		})
	}
}
