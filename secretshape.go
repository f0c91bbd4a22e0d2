// SPDX-License-Identifier: Apache-2.0

package keygate

// HasSecretBody reports whether s holds what the random body of a key or
// token looks like: a run of 32 or more ASCII letters and digits, a run of
// 20 or more that mixes upper case, lower case and digits, or a UUID
// (8-4-4-4-12 hex digits, the shape of some providers' keys). Prefixes of
// known key formats are the catalog's business (provider.Catalog); this is
// the part of "looks like a key" that needs no catalog, shared by every
// place that must not repeat or record one.
func HasSecretBody(s string) bool {
	return hasSecretRun(s) || hasUUID(s)
}

// hasSecretRun reports whether s holds a run of 32 or more ASCII letters
// and digits, or of 20 or more that mixes upper case, lower case and
// digits: the body of a random key.
func hasSecretRun(s string) bool {
	run, upper, lower, digit := 0, false, false, false
	for i := 0; i <= len(s); i++ {
		var c byte
		if i < len(s) {
			c = s[i]
		}
		switch {
		case c >= 'A' && c <= 'Z':
			run, upper = run+1, true
		case c >= 'a' && c <= 'z':
			run, lower = run+1, true
		case c >= '0' && c <= '9':
			run, digit = run+1, true
		default:
			if run >= 32 || run >= 20 && upper && lower && digit {
				return true
			}
			run, upper, lower, digit = 0, false, false, false
		}
	}
	return false
}

// hasUUID reports whether s contains a UUID (8-4-4-4-12 hex digits), the
// shape of some providers' keys.
func hasUUID(s string) bool {
	const shape = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
	for i := 0; i+len(shape) <= len(s); i++ {
		ok := true
		for j := 0; j < len(shape) && ok; j++ {
			c := s[i+j]
			if shape[j] == '-' {
				ok = c == '-'
			} else {
				ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
			}
		}
		if ok {
			return true
		}
	}
	return false
}
