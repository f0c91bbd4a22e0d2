// SPDX-License-Identifier: Apache-2.0

package byokguide

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/keygate/keygate"
)

// candidate is one key of a request body, for one provider.
type candidate struct {
	provider string
	key      keygate.Secret
}

// keyField is the body field that carries provider's key.
func keyField(provider string) string { return provider + "_key" }

// decodeKeys reads a body of the story's shape, {"openai_key": "...",
// "anthropic_key": "..."}, and returns its keys ordered by provider. Any
// catalog provider may be named the same way ("google_key", "exa_key"). A
// field that is null or "" is skipped (the story's "or skip to keep
// current"). Errors: body_too_large; invalid_json for a body that is not a
// JSON object of strings; invalid_request for a field that names no
// provider, or when no key is given at all.
func decodeKeys(r *http.Request, maxBytes int64, providers []string) ([]candidate, error) {
	body := bufio.NewReader(http.MaxBytesReader(nil, r.Body, maxBytes))
	fields := map[string]*string{}
	if _, err := body.Peek(1); err == nil {
		dec := json.NewDecoder(body)
		if err := dec.Decode(&fields); err != nil {
			return nil, bodyError(err, maxBytes)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, keygate.Errorf(keygate.CodeInvalidJSON, "The request body has data after the JSON object.")
		}
	}
	var out []candidate
	for field, v := range fields {
		p, ok := strings.CutSuffix(field, "_key")
		if !ok || !slices.Contains(providers, p) {
			return nil, keygate.Errorf(keygate.CodeInvalidRequest, "Unknown field %s: send openai_key and/or anthropic_key (or <provider>_key for another provider: %s).", fieldName(field), strings.Join(providers, ", "))
		}
		if v == nil || *v == "" {
			continue
		}
		out = append(out, candidate{provider: p, key: keygate.NewSecret(*v)})
	}
	if len(out) == 0 {
		return nil, keygate.Errorf(keygate.CodeInvalidRequest, `Provide at least one key: {"openai_key": "sk-...", "anthropic_key": "sk-ant-..."}.`)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].provider < out[j].provider })
	return out, nil
}

// bodyError describes a decoding error without echoing the input (a body
// holds keys).
func bodyError(err error, maxBytes int64) error {
	var tooBig *http.MaxBytesError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return keygate.Errorf(keygate.CodeBodyTooLarge, "The request body is larger than %d bytes.", maxBytes)
	case keygate.IsCode(err, keygate.CodeRequestTimeout):
		return err // the body did not arrive in time (408)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return keygate.Errorf(keygate.CodeInvalidJSON, "The request body must be a JSON object.")
		}
		return keygate.Errorf(keygate.CodeInvalidJSON, "Field %s must be a string.", fieldName(typ.Field))
	}
	return keygate.Errorf(keygate.CodeInvalidJSON, "The request body is not valid JSON.")
}

// fieldName returns a field name fit to quote in an error: only a short
// lowercase identifier is echoed, since a misplaced key pasted as a field
// name must not come back in the answer.
func fieldName(s string) string {
	if safeField.MatchString(s) {
		return strconv.Quote(s)
	}
	return "(a field name that is not a lowercase identifier)"
}

var safeField = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
