// SPDX-License-Identifier: Apache-2.0

package keygate

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
)

// Redacted is what every print, format, marshal and log path of a Secret
// produces.
const Redacted = "[REDACTED]"

// Secret holds a plaintext provider key (or token) in memory. It is the only
// way plaintext travels through keygate. Every way of printing it — String,
// GoString, every fmt verb, JSON and text marshalling, slog — yields
// "[REDACTED]". Reveal is the one explicit accessor, used only where a
// provider's auth header is set or a value is sealed.
//
// Secret cannot be compared with == (the func array makes it non-comparable);
// use Equal, which runs in constant time.
type Secret struct {
	_ [0]func()
	b []byte
}

// NewSecret copies s into a Secret.
func NewSecret(s string) Secret { return Secret{b: []byte(s)} }

// NewSecretBytes copies b into a Secret.
func NewSecretBytes(b []byte) Secret { return Secret{b: append([]byte(nil), b...)} }

// Reveal returns the plaintext. Call it only at the point of use (setting a
// provider header, sealing) and never pass the result to a log, an error or a
// response.
func (s Secret) Reveal() string { return string(s.b) }

// RevealBytes returns the plaintext bytes without copying; callers must not
// modify or retain them.
func (s Secret) RevealBytes() []byte { return s.b }

// Len returns the length of the plaintext in bytes.
func (s Secret) Len() int { return len(s.b) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return len(s.b) == 0 }

// Equal reports whether s and o hold the same bytes, in constant time.
func (s Secret) Equal(o Secret) bool { return subtle.ConstantTimeCompare(s.b, o.b) == 1 }

// Hint returns the display form of a key: "..." and its last four characters
// ("...xK7q"), or "..." alone for keys too short to show anything safely.
func (s Secret) Hint() string {
	if len(s.b) < 12 {
		return "..."
	}
	return "..." + string(s.b[len(s.b)-4:])
}

// Fingerprint returns a stable identifier of the key that reveals nothing
// about it: the first 16 hex digits of HMAC-SHA256 under a server-held
// secret, so the same key stored twice shows the same fingerprint while the
// fingerprint cannot be brute-forced without that secret.
func (s Secret) Fingerprint(serverSecret Secret) string {
	m := hmac.New(sha256.New, serverSecret.b)
	m.Write(s.b)
	return "fp_" + hex.EncodeToString(m.Sum(nil)[:8])
}

// Wipe overwrites the plaintext in place. Copies made by Reveal are not
// affected; call it when the secret's owner is done with it.
func (s Secret) Wipe() {
	for i := range s.b {
		s.b[i] = 0
	}
}

// String implements fmt.Stringer and redacts.
func (Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer and redacts.
func (Secret) GoString() string { return "keygate.Secret(" + Redacted + ")" }

// Format implements fmt.Formatter so that every verb, including %x, %q and
// %#v, redacts.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// MarshalJSON redacts.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText redacts.
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue implements slog.LogValuer and redacts.
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }
