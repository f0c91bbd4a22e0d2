// SPDX-License-Identifier: Apache-2.0

package provider

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keygate/keygate"
)

// CheckKeyFormat checks that key is well formed for the named provider,
// without contacting it. It returns nil, or a *keygate.Error whose message is
// safe to show (it never quotes the key):
//
//   - keygate.CodeUnknownProvider when provider is not in the catalog (the
//     message lists the known ones);
//   - keygate.CodeInvalidKeyFormat when the key is empty; contains
//     whitespace, a line break or another control character anywhere (a
//     paste accident); looks like another provider's key; lacks the expected
//     prefix (the message names it: `An openai key starts with "sk-".`); is
//     too short or too long; or has a character outside the provider's
//     charset.
func (c *Catalog) CheckKeyFormat(provider string, key keygate.Secret) error {
	p, ok := c.byName[provider]
	if !ok {
		if !c.MayEcho(provider) {
			return keygate.Errorf(keygate.CodeUnknownProvider,
				"Unknown provider (the value sent is not repeated). Known providers: %s.", strings.Join(c.names, ", "))
		}
		return keygate.Errorf(keygate.CodeUnknownProvider,
			"Unknown provider %q. Known providers: %s.", provider, strings.Join(c.names, ", "))
	}
	k := key.RevealBytes()
	f := p.KeyFormat
	if len(k) == 0 {
		return invalid("The %s key is empty.", p.Name)
	}
	if msg := pasteProblem(k); msg != "" {
		return invalid("The %s key %s Paste the key alone, on one line.", p.Name, msg)
	}
	if other, pre := c.lookalike(p, k); other != "" {
		return invalid("This looks like %s %s key (it starts with %q), not %s %s key.",
			article(other), other, pre, article(p.Name), p.Name)
	}
	if len(f.Prefixes) > 0 && !hasAnyPrefix(k, f.Prefixes) {
		return invalid("%s %s key starts with %s.", capital(article(p.Name)), p.Name, quoteOr(f.Prefixes))
	}
	switch {
	case f.MinLen == f.MaxLen && len(k) != f.MinLen:
		return invalid("%s %s key is %d characters long; this one has %d.", capital(article(p.Name)), p.Name, f.MinLen, len(k))
	case len(k) < f.MinLen:
		return invalid("The %s key is too short: %d characters, at least %d expected.", p.Name, len(k), f.MinLen)
	case len(k) > f.MaxLen:
		return invalid("The %s key is too long: %d characters, at most %d expected.", p.Name, len(k), f.MaxLen)
	}
	for i, b := range k {
		if b >= utf8.RuneSelf || !f.allowed[b] {
			return invalid("The %s key has a character that is not allowed at position %d (allowed: %s).", p.Name, i+1, f.Charset)
		}
	}
	return nil
}

func invalid(format string, args ...any) error {
	return keygate.Errorf(keygate.CodeInvalidKeyFormat, format, args...)
}

// pasteProblem describes whitespace or control characters in k, or returns
// "". It names the kind and position, never the characters around it.
func pasteProblem(k []byte) string {
	for i, w := 0, 0; i < len(k); i += w {
		r, size := utf8.DecodeRune(k[i:])
		w = size
		switch {
		case r == '\n' || r == '\r':
			return fmt.Sprintf("contains a line break (at position %d).", i+1)
		case unicode.IsSpace(r):
			if i == 0 || i+w == len(k) {
				return "has leading or trailing whitespace."
			}
			return fmt.Sprintf("contains whitespace (at position %d).", i+1)
		case unicode.IsControl(r) || r == utf8.RuneError && size == 1 || unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("contains an invisible or control character (at position %d).", i+1)
		}
	}
	return ""
}

// lookalike returns another provider whose prefix k carries, when that
// prefix is more specific than any of p's own ("sk-ant-" for an openai key
// slot). For a provider without prefixes, purely alphanumeric foreign
// prefixes ("AIza") are ignored: a random key may start with them by chance.
func (c *Catalog) lookalike(p Provider, k []byte) (string, string) {
	own := 0
	for _, pre := range p.KeyFormat.Prefixes {
		if strings.HasPrefix(string(k), pre) && len(pre) > own {
			own = len(pre)
		}
	}
	best, bestPre := "", ""
	for _, n := range c.names {
		if n == p.Name {
			continue
		}
		for _, pre := range c.byName[n].KeyFormat.Prefixes {
			if len(pre) <= own || len(pre) <= len(bestPre) || !strings.HasPrefix(string(k), pre) {
				continue
			}
			if len(p.KeyFormat.Prefixes) == 0 && isAlnum(pre) {
				continue
			}
			best, bestPre = n, pre
		}
	}
	return best, bestPre
}

func hasAnyPrefix(k []byte, prefixes []string) bool {
	for _, pre := range prefixes {
		if strings.HasPrefix(string(k), pre) {
			return true
		}
	}
	return false
}

func isAlnum(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

func quoteOr(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// article returns "an" before names that start with a vowel sound when
// spelled out ("an openai", "an exa", "an elevenlabs"), "a" otherwise.
func article(name string) string {
	if name != "" && strings.ContainsRune("aeiou", rune(name[0])) {
		return "an"
	}
	return "a"
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
