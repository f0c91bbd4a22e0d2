// SPDX-License-Identifier: Apache-2.0

package scrub_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/scrub"
)

const key = "sk-proj-Abc123/def+456=ghi~jkl_mno.pqr"

// forms returns the ways a provider may echo k.
func forms(k string) map[string]string {
	return map[string]string{
		"clear":          k,
		"base64":         base64.StdEncoding.EncodeToString([]byte(k)),
		"base64 raw":     base64.RawStdEncoding.EncodeToString([]byte(k)),
		"base64url":      base64.URLEncoding.EncodeToString([]byte(k)),
		"base64url raw":  base64.RawURLEncoding.EncodeToString([]byte(k)),
		"query escaped":  url.QueryEscape(k),
		"path escaped":   url.PathEscape(k),
		"bearer base64":  base64.StdEncoding.EncodeToString([]byte("Bearer " + k)),
		"basic base64":   base64.StdEncoding.EncodeToString([]byte("user:" + k)),
		"x base64url":    base64.RawURLEncoding.EncodeToString([]byte("x" + k + "y")),
		"in json string": `{"error":{"message":"Incorrect API key provided: ` + k + `."}}`,
	}
}

// reveals reports whether text still holds k in any form: the key, or a
// third of it (any 8 consecutive characters of an encoding that depend on
// the key alone) in one of its encodings.
func reveals(text, k string) bool {
	if strings.Contains(text, k) {
		return true
	}
	for name, f := range forms(k) {
		if name == "clear" || name == "in json string" || len(f) < 24 {
			continue
		}
		core := f[8 : len(f)-8]
		if strings.Contains(text, core) {
			return true
		}
	}
	return false
}

func TestStringScrubsEveryForm(t *testing.T) {
	s := scrub.New(keygate.NewSecret(key))
	for name, f := range forms(key) {
		t.Run(name, func(t *testing.T) {
			text := "before " + f + " after"
			got, n := s.String(text)
			if n == 0 || reveals(got, key) {
				t.Errorf("String(%q) = %q, %d: the key is still readable", text, got, n)
			}
			if len(got) != len(text) {
				t.Errorf("the length changed: %d, was %d", len(got), len(text))
			}
			if !strings.HasPrefix(got, "before ") || !strings.HasSuffix(got, " after") {
				t.Errorf("text around the key changed: %q", got)
			}
		})
	}
}

func TestStringLeavesOtherTextAlone(t *testing.T) {
	s := scrub.New(keygate.NewSecret(key))
	for _, text := range []string{"", "hello", "sk-proj-Abc123", key[:len(key)-1], strings.ToUpper(key), `{"id":"gpt-4o"}`} {
		got, n := s.String(text)
		if got != text || n != 0 {
			t.Errorf("String(%q) = %q, %d; want it unchanged", text, got, n)
		}
	}
}

func TestShortOrZeroKeysAreNotNeedles(t *testing.T) {
	s := scrub.New(keygate.Secret{}, keygate.NewSecret("abc"))
	if !s.Empty() {
		t.Fatalf("needles %q for keys too short to scrub", s.Needles())
	}
	if got, n := s.String("abc abc"); got != "abc abc" || n != 0 {
		t.Errorf("String = %q, %d", got, n)
	}
	var nilS *scrub.Scrubber
	if !nilS.Empty() || nilS.MaxLen() != 0 {
		t.Error("a nil Scrubber is not empty")
	}
}

func TestMarker(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, ""}, {3, "***"}, {10, "[redacted]"}, {14, "[redacted****]"},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, scrub.Marker(tc.n)); diff != "" {
			t.Errorf("Marker(%d) (-want +got):\n%s", tc.n, diff)
		}
	}
}

func TestNeedlesMinimal(t *testing.T) {
	s := scrub.New(keygate.NewSecret(key), keygate.NewSecret(key), keygate.NewSecret("k-"+key))
	ns := s.Needles()
	for i, a := range ns {
		for j, b := range ns {
			if i != j && bytes.Contains(a, b) {
				t.Errorf("needle %q contains needle %q", a, b)
			}
		}
	}
}

// oracle is the scrub of the whole text at once, by the standard library.
func oracle(s *scrub.Scrubber, text string) string {
	var pairs []string
	for _, n := range s.Needles() {
		pairs = append(pairs, string(n), scrub.Marker(len(n)))
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// chunked returns the bytes of text in chunks of the given sizes (cycled).
type chunked struct {
	text  []byte
	sizes []int
	i     int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.text) == 0 {
		return 0, io.EOF
	}
	n := min(c.sizes[c.i%len(c.sizes)], len(p), len(c.text))
	c.i++
	copy(p, c.text[:n])
	c.text = c.text[n:]
	return n, nil
}

// readAll reads r with buffers of the given sizes (cycled).
func readAll(t *testing.T, r io.Reader, sizes []int) string {
	t.Helper()
	var out bytes.Buffer
	for i := 0; ; i++ {
		buf := make([]byte, sizes[i%len(sizes)])
		n, err := r.Read(buf)
		out.Write(buf[:n])
		if err == io.EOF {
			return out.String()
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if i > 1<<20 {
			t.Fatal("no progress")
		}
	}
}

// TestReaderMatchesWholeTextScrub is the property the proxy relies on:
// for random texts full of keys, their encodings and pieces of them, cut
// into random chunks and read with random buffer sizes, the streamed
// output is the scrub of the whole text, and every match is counted once.
func TestReaderMatchesWholeTextScrub(t *testing.T) {
	keys := []string{key, "AIzaSyD-0123456789abcdefghijklmnopqrstu", "aaaaaaaaab"}
	var secrets []keygate.Secret
	var pieces []string
	for _, k := range keys {
		secrets = append(secrets, keygate.NewSecret(k))
		for _, f := range forms(k) {
			pieces = append(pieces, f, f[:len(f)/2], f[len(f)/2:])
		}
	}
	pieces = append(pieces, "a", "aaaa", "\n\n", "data: ", "s", "sk-", " ", "=", "%2F")
	s := scrub.New(secrets...)
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 2000; iter++ {
		var b strings.Builder
		for n := rng.IntN(40); n > 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		want := oracle(s, text)
		if text == key && want == text {
			t.Fatal("the oracle does not scrub")
		}
		var srcSizes, readSizes []int
		for n := 1 + rng.IntN(5); n > 0; n-- {
			srcSizes = append(srcSizes, 1+rng.IntN(3*s.MaxLen()))
			readSizes = append(readSizes, 1+rng.IntN(5*s.MaxLen()))
		}
		counted := 0
		r := scrub.NewReader(&chunked{text: []byte(text), sizes: srcSizes}, s, func(n int) { counted += n })
		got := readAll(t, r, readSizes)
		if got != want {
			t.Fatalf("text %q\nsource chunks %v, reads %v\n got %q\nwant %q", text, srcSizes, readSizes, got, want)
		}
		whole := []byte(text)
		if n := s.Bytes(whole); n != counted || string(whole) != want {
			t.Fatalf("text %q: Bytes over the whole text counted %d, the reader %d", text, n, counted)
		}
	}
}

func TestReaderOneNeedleIsReplaceAll(t *testing.T) {
	const k = "abcabcabd"
	s := scrub.New(keygate.NewSecret(k))
	text := strings.Repeat("abcabcabcabdxabcabd", 50) + "abcab"
	r := scrub.NewReader(iotest.OneByteReader(strings.NewReader(text)), s, nil)
	got := readAll(t, r, []int{7, 64, 1})
	if want := strings.ReplaceAll(text, k, scrub.Marker(len(k))); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestReaderFlushesEventsAtOnce(t *testing.T) {
	s := scrub.New(keygate.NewSecret(key))
	event := "data: {\"content\":\"x\"}\n\n"
	src, w := io.Pipe()
	r := scrub.NewReader(src, s, nil)
	go func() { _, _ = w.Write([]byte(event)) }()
	buf := make([]byte, 32<<10)
	n, err := r.Read(buf)
	if err != nil || string(buf[:n]) != event {
		t.Errorf("Read = %q, %v; want the whole event at once", buf[:n], err)
	}
	// A chunk ending with a prefix of the key holds only that prefix.
	go func() { _, _ = w.Write([]byte("data: " + key[:5])) }()
	n, err = r.Read(buf)
	if err != nil || string(buf[:n]) != "data: " {
		t.Errorf("Read = %q, %v; want the bytes before the key's prefix", buf[:n], err)
	}
	go func() { _, _ = w.Write([]byte(key[5:] + "\n\n")); w.Close() }()
	rest, err := io.ReadAll(r)
	if want := scrub.Marker(len(key)) + "\n\n"; err != nil || string(rest) != want {
		t.Errorf("rest = %q, %v; want %q", rest, err, want)
	}
}

func TestReaderPassesErrors(t *testing.T) {
	boom := errors.New("boom")
	s := scrub.New(keygate.NewSecret(key))
	r := scrub.NewReader(io.MultiReader(strings.NewReader("ok "), iotest.ErrReader(boom)), s, nil)
	got, err := io.ReadAll(r)
	if !errors.Is(err, boom) || string(got) != "ok " {
		t.Errorf("ReadAll = %q, %v; want the bytes then the error", got, err)
	}
}

// A source that breaks off in the middle of a key drops the key's first
// part; one that ends there (io.EOF) returns it, as the whole text holds
// no key.
func TestReaderBrokenOffInsideKey(t *testing.T) {
	boom := errors.New("boom")
	s := scrub.New(keygate.NewSecret(key))
	r := scrub.NewReader(io.MultiReader(strings.NewReader("ok "+key[:12]), iotest.ErrReader(boom)), s, nil)
	got, err := io.ReadAll(r)
	if !errors.Is(err, boom) || string(got) != "ok " {
		t.Errorf("broken off: ReadAll = %q, %v; want %q and the error", got, err, "ok ")
	}
	r = scrub.NewReader(strings.NewReader("ok "+key[:12]), s, nil)
	got, err = io.ReadAll(r)
	if err != nil || string(got) != "ok "+key[:12] {
		t.Errorf("ended: ReadAll = %q, %v; want the whole text", got, err)
	}
}
