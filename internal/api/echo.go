// SPDX-License-Identifier: Apache-2.0

package api

import (
	"fmt"
	"strings"

	"github.com/keygate/keygate"
)

// notShown stands in a message for a value the caller sent that may be a
// key: the message names the field, never the value.
const notShown = "(the value sent is not repeated)"

// ref formats a value the caller typed (a provider or tenant name, a token
// id, a field name) for an error message: quoted when it cannot be a key
// (Providers.MayEcho), otherwise notShown.
func (a *API) ref(s string) string {
	if a.d.Providers.MayEcho(s) {
		return fmt.Sprintf("%q", s)
	}
	return notShown
}

// fieldPath formats a dotted JSON field path for a message, replacing
// every element that may be a key (a map key the caller chose).
func (a *API) fieldPath(p string) string {
	parts := strings.Split(p, ".")
	for i, s := range parts {
		if !a.d.Providers.MayEcho(s) {
			parts[i] = "[redacted]"
		}
	}
	return strings.Join(parts, ".")
}

// notFoundRef turns a store's not_found for ref (a tenant or token named
// in the request) into the message format, whose one %s gets ref only if
// it cannot be a key; other errors pass unchanged.
func (a *API) notFoundRef(err error, format, ref string) error {
	if !keygate.IsCode(err, keygate.CodeNotFound) {
		return err
	}
	return keygate.Errorf(keygate.CodeNotFound, format, a.ref(ref))
}

// scrubMessage is the last guard before an error message leaves: every
// word or quoted string in it that looks like a key is replaced. Messages
// are written not to repeat input; this catches one that does.
func (a *API) scrubMessage(msg string) string {
	redact := a.d.Providers.RedactModel
	var b strings.Builder
	changed := false
	for i := 0; i < len(msg); {
		j := i
		for j < len(msg) && msg[j] != ' ' && msg[j] != '"' {
			j++
		}
		word := msg[i:j]
		core := strings.TrimRight(word, ".,;:!?)")
		core = strings.TrimLeft(core, "(")
		if core != "" && redact(core) != core {
			b.WriteString(strings.Replace(word, core, "[redacted]", 1))
			changed = true
		} else {
			b.WriteString(word)
		}
		if j < len(msg) {
			b.WriteByte(msg[j])
			j++
		}
		i = j
	}
	if !changed {
		return msg
	}
	return b.String()
}

// noProviders stands in for a missing catalog (tests of routes that need
// none): it knows no provider and repeats no value.
type noProviders struct{}

func (noProviders) Names() []string             { return nil }
func (noProviders) MayEcho(string) bool         { return false }
func (noProviders) RedactPath(p string) string  { return p }
func (noProviders) RedactModel(s string) string { return s }
