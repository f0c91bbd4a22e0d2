// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"strconv"
	"sync"

	"github.com/keygate/keygate"
)

// other is the label value that stands for every value outside a label's
// bounded set.
const other = "other"

// labelSet bounds the values of one label. With an allow-list only its
// values pass. Without one, well-formed values pass until max distinct
// values have been seen; later newcomers are "other". Either way the label
// cannot grow without bound or carry an arbitrary string.
type labelSet struct {
	allow map[string]bool // nil: open set
	valid func(string) bool
	max   int

	mu   sync.Mutex
	seen map[string]bool
}

func newLabelSet(allow []string, valid func(string) bool, max int) *labelSet {
	l := &labelSet{valid: valid, max: max, seen: make(map[string]bool)}
	if len(allow) > 0 {
		l.allow = make(map[string]bool, len(allow))
		for _, v := range allow {
			if valid(v) && !LooksSecret(v) {
				l.allow[v] = true
			}
		}
	}
	return l
}

// value returns v if it may be a label value, else "other".
func (l *labelSet) value(v string) string {
	if l.allow != nil {
		if l.allow[v] {
			return v
		}
		return other
	}
	if !l.valid(v) || LooksSecret(v) {
		return other
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[v] {
		return v
	}
	if len(l.seen) >= l.max {
		return other
	}
	l.seen[v] = true
	return v
}

// validName accepts the shape of catalog names, route families, cache
// names and error codes: lowercase, digits, '_', '-', '.', at most 40
// characters, starting with a letter or digit.
func validName(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-' || c == '.') && i > 0:
		default:
			return false
		}
	}
	return true
}

// validRoute accepts a management API route pattern such as
// "/api/v1/tenants/{tenant}/keys/{provider}": at most 120 characters of
// letters, digits and "/{}_-.".
func validRoute(s string) bool {
	if s == "" || len(s) > 120 || s[0] != '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '/' || c == '{' || c == '}' || c == '_' || c == '-' || c == '.':
		default:
			return false
		}
	}
	return true
}

// sourceLabel bounds a key source to the three the domain defines.
func sourceLabel(s keygate.KeySource) string {
	switch s {
	case keygate.SourceTenant, keygate.SourcePlatform, keygate.SourceRequest:
		return string(s)
	}
	return other
}

// statusLabel is the HTTP status as its decimal code; anything outside
// 100-599 (including 0, "no status") is "other".
func statusLabel(code int) string {
	if code < 100 || code > 599 {
		return other
	}
	return strconv.Itoa(code)
}

// statusClass is "2xx", "4xx", ... for histograms, whose series cost more.
func statusClass(code int) string {
	if code < 100 || code > 599 {
		return other
	}
	return string(rune('0'+code/100)) + "xx"
}

// methodLabel bounds an HTTP method to the standard ones.
func methodLabel(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m
	}
	return other
}

// errorCodes returns the stable codes of keygate.Error: the only values of
// the code label.
func errorCodes() []string {
	return []string{
		keygate.CodeInvalidRequest, keygate.CodeInvalidJSON, keygate.CodeBodyTooLarge, keygate.CodeRequestTimeout,
		keygate.CodeUnknownProvider, keygate.CodeInvalidKeyFormat, keygate.CodeNotFound,
		keygate.CodeConflict, keygate.CodeUnauthorized, keygate.CodeForbidden,
		keygate.CodeProviderKeyMissing, keygate.CodeBudgetExceeded, keygate.CodeRateLimited,
		keygate.CodeUnavailable, keygate.CodeUnsupported, keygate.CodeUnknownModel,
		keygate.CodeKeyRejected, keygate.CodeUpstreamError, keygate.CodeInternal,
		keygate.CodeKeyUnreadable,
		keygate.CodeTokenScopeProvider, keygate.CodeTokenScopeModel,
		keygate.CodeModelUnpriced,
	}
}
