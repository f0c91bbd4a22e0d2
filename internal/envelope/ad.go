// SPDX-License-Identifier: Apache-2.0

package envelope

import (
	"encoding/binary"
	"fmt"

	"github.com/keygate/keygate"
)

// Domain-separation labels of the two kinds of associated data. Each AD
// encoding starts with one of them, so a provider key AD and a setting AD can
// never encode to the same bytes. Persisted (they are inside every
// ciphertext's authentication): never change them.
const (
	labelKey     = "keygate/envelope/v1/provider-key"
	labelSetting = "keygate/envelope/v1/setting"
)

// AD is the associated data every ciphertext is bound to. It is a
// required argument of Seal and Open: a value sealed for one AD opens only
// with an equal AD.
//
// For a provider key, fill the exported fields: all are required, and
// Version starts at 1. For a sealed server setting, use [SettingAD]; the two
// kinds are domain-separated and never collide.
type AD struct {
	Owner    keygate.TenantID // the tenant id, or keygate.PlatformScope
	Provider string           // the provider name ("openai")
	KeyID    string           // the provider key id ("pk_...")
	Version  int              // the key version, from 1

	// setting is the name of a sealed server setting; set only by
	// SettingAD, which is why it is unexported.
	setting string
}

// SettingAD returns the associated data of the sealed server setting name
// (for example the fingerprint secret). It never equals a provider key AD.
func SettingAD(name string) AD { return AD{setting: name} }

// Setting returns the setting name of an AD made by SettingAD, "" for a
// provider key AD.
func (a AD) Setting() string { return a.setting }

// String describes the AD for error messages and logs. It holds no secret.
func (a AD) String() string {
	if a.setting != "" {
		return fmt.Sprintf("setting %q", a.setting)
	}
	return fmt.Sprintf("owner %q provider %q key %q version %d", a.Owner, a.Provider, a.KeyID, a.Version)
}

// validate reports, as an ErrInvalidAD error, what is missing from a.
func (a AD) validate() error {
	if a.setting != "" {
		if a.Owner != "" || a.Provider != "" || a.KeyID != "" || a.Version != 0 {
			return fmt.Errorf("%w: setting AD %q has provider key fields set", ErrInvalidAD, a.setting)
		}
		return nil
	}
	switch {
	case a.Owner == "":
		return fmt.Errorf("%w: owner is empty (%s)", ErrInvalidAD, a)
	case a.Provider == "":
		return fmt.Errorf("%w: provider is empty (%s)", ErrInvalidAD, a)
	case a.KeyID == "":
		return fmt.Errorf("%w: key id is empty (%s)", ErrInvalidAD, a)
	case a.Version < 1:
		return fmt.Errorf("%w: version must be at least 1 (%s)", ErrInvalidAD, a)
	}
	return nil
}

// appendEncoded appends the unambiguous encoding of a to dst: the label and
// each field as a 4-byte big-endian length followed by its bytes, and the
// version as 8 bytes. Length prefixes make ("ab","c") and ("a","bc")
// different, which a separator-joined string would not guarantee.
func (a AD) appendEncoded(dst []byte) []byte {
	if a.setting != "" {
		dst = appendField(dst, labelSetting)
		return appendField(dst, a.setting)
	}
	dst = appendField(dst, labelKey)
	dst = appendField(dst, string(a.Owner))
	dst = appendField(dst, a.Provider)
	dst = appendField(dst, a.KeyID)
	return binary.BigEndian.AppendUint64(dst, uint64(a.Version))
}

// encodedLen returns the length of a's encoding, so the caller can size its
// buffer once.
func (a AD) encodedLen() int {
	if a.setting != "" {
		return 8 + len(labelSetting) + len(a.setting)
	}
	return 16 + len(labelKey) + len(a.Owner) + len(a.Provider) + len(a.KeyID) + 8
}

func appendField(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}
