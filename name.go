// SPDX-License-Identifier: Apache-2.0

package keygate

import (
	"unicode"
	"unicode/utf8"
)

// ValidateName returns an invalid_request *Error naming field if name is not
// plain text: invalid UTF-8, a control character (C0 such as NUL, BEL, LF,
// CR and ESC; DEL; C1), a line or paragraph separator, or an invisible
// format character (U+200B-U+200F, U+202A-U+202E bidirectional overrides,
// U+2066-U+2069, U+FEFF, ...). Such a name would rewrite a terminal, a log
// line or a table when it is printed, or read differently from what it is.
// The message never echoes the value. Every API that accepts a tenant,
// token or admin-token name checks it with this function.
func ValidateName(field, name string) error {
	if !PlainText(name) {
		return Errorf(CodeInvalidRequest, "%s must be plain text: it holds a control or invisible formatting character (or is not valid UTF-8).", field)
	}
	return nil
}

// PlainText reports whether s is valid UTF-8 without control, separator or
// invisible format characters (see ValidateName).
func PlainText(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		if !plainRune(r) {
			return false
		}
		i += n
	}
	return true
}

// plainRune reports whether r prints as itself.
func plainRune(r rune) bool {
	return !unicode.IsControl(r) && !unicode.Is(unicode.Cf, r) && !unicode.In(r, unicode.Zl, unicode.Zp)
}
