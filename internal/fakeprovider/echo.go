// SPDX-License-Identifier: Apache-2.0

package fakeprovider

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// EchoHeader is the request header that turns echo mode on for one
// request, overriding any set with SetEcho: a comma-separated list among
// header, body and error, or "all".
const EchoHeader = "X-Fake-Echo"

// EchoTrailer is the trailer an echoing answer ends with (Echo.Header).
const EchoTrailer = "X-Echo-Trailer"

// Echo makes the fake reflect the credential it received, as a careless
// provider, or a proxy in front of one, may: in clear, in base64 (standard
// and URL-safe, and inside the base64 of "Bearer <key>") and URL-encoded.
// The zero Echo reflects nothing.
type Echo struct {
	// Header sends the key in response headers (X-Echo-Key,
	// X-Echo-Key-Base64, X-Echo-Key-Url) and in the EchoTrailer trailer.
	Header bool
	// Body puts the key's forms in the answer: first in the text of a chat,
	// completion, message or Gemini answer, as extra ids in a model list,
	// and in the echo of any other path. Bodies are written in pieces cut
	// in the middle of every form of the key, each piece flushed, so a
	// stream carries the key split across chunks.
	Body bool
	// Error answers 400 in the provider's error shape, its message quoting
	// the key's forms; a rejected key's 401 quotes them too.
	Error bool
}

// SetEcho applies e to requests for the named provider, or to every
// provider without an echo of its own when name is "". A zero Echo clears.
// It is how the model lists keygate asks for itself (GET /v1/models sends
// no caller header) are made to echo.
func (f *Fake) SetEcho(name string, e Echo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.echoes == nil {
		f.echoes = map[string]Echo{}
	}
	if e == (Echo{}) {
		delete(f.echoes, name)
		return
	}
	f.echoes[name] = e
}

// echoFor returns the echo of one request: the header's if present, else
// the provider's, else the catalog-wide one.
func (f *Fake) echoFor(name, header string) (Echo, error) {
	if header != "" {
		return parseEcho(header)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := f.echoes[name]; ok {
		return e, nil
	}
	return f.echoes[""], nil
}

func parseEcho(s string) (Echo, error) {
	var e Echo
	for _, w := range strings.Split(s, ",") {
		switch strings.TrimSpace(w) {
		case "header":
			e.Header = true
		case "body":
			e.Body = true
		case "error":
			e.Error = true
		case "all":
			e = Echo{Header: true, Body: true, Error: true}
		default:
			return Echo{}, fmt.Errorf("%s: unknown value %q (header, body, error, all)", EchoHeader, w)
		}
	}
	return e, nil
}

// EchoForms returns the forms in which an echoing fake reflects key, by
// name: what a test must not find in what keygate relays.
func EchoForms(key string) map[string]string {
	return map[string]string{
		"clear":         key,
		"base64":        base64.StdEncoding.EncodeToString([]byte(key)),
		"base64url":     base64.RawURLEncoding.EncodeToString([]byte(key)),
		"bearer base64": base64.StdEncoding.EncodeToString([]byte("Bearer " + key)),
		"basic base64":  base64.URLEncoding.EncodeToString([]byte("ab:" + key)),
		"query escaped": url.QueryEscape(key),
		"path escaped":  url.PathEscape(key),
	}
}

// echoText is the text an echoing answer carries: every form of key.
func echoText(key string) string {
	forms := EchoForms(key)
	names := make([]string, 0, len(forms))
	for n := range forms {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("You sent")
	for _, n := range names {
		fmt.Fprintf(&b, " %s=%s", strings.ReplaceAll(n, " ", "_"), forms[n])
	}
	return b.String()
}

// echoCuts returns the offsets in text at which to cut it so that every
// form of key in it is split across two writes.
func echoCuts(text, key string) []int {
	var cuts []int
	for _, f := range EchoForms(key) {
		for i := 0; ; {
			j := strings.Index(text[i:], f)
			if j < 0 {
				break
			}
			cuts = append(cuts, i+j+len(f)/2)
			i += j + len(f)
		}
	}
	sort.Ints(cuts)
	return cuts
}

// write sends b, in pieces cut inside every form of the key when the
// answer echoes it in its body, flushing each piece.
func (x *exchange) write(b []byte) {
	if !x.reflect.Body {
		_, _ = x.w.Write(b)
		return
	}
	last := 0
	for _, c := range echoCuts(string(b), x.key) {
		if c <= last {
			continue
		}
		_, _ = x.w.Write(b[last:c])
		x.w.Flush()
		last = c
	}
	_, _ = x.w.Write(b[last:])
}

// echoWords puts the echo text first among an answer's words when the
// answer echoes the key.
func (x *exchange) echoWords(words []string) []string {
	if !x.reflect.Body {
		return words
	}
	return append([]string{echoText(x.key)}, words...)
}

// echoIDs adds the key's forms to a model list's ids when the answer
// echoes the key.
func (x *exchange) echoIDs(ids []string) []string {
	if !x.reflect.Body {
		return ids
	}
	forms := EchoForms(x.key)
	return append(append([]string(nil), ids...), forms["clear"], "ft:"+forms["base64"], "acct/"+forms["query escaped"])
}
