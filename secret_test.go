// SPDX-License-Identifier: Apache-2.0

package keygate_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/keygate/keygate"
)

const plain = "sk-plaintextvalue1234567890xK7q"

func TestSecretRedactsEverywhere(t *testing.T) {
	s := keygate.NewSecret(plain)
	holder := struct {
		Key  keygate.Secret
		Name string
	}{s, "x"}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("msg", "key", s, "holder", holder)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("msg", "key", s)
	js, _ := json.Marshal(holder)
	xm, _ := xml.Marshal(holder)
	txt, _ := s.MarshalText()
	outputs := map[string]string{
		"String":   s.String(),
		"GoString": s.GoString(),
		"%v":       fmt.Sprintf("%v", s),
		"%+v":      fmt.Sprintf("%+v", holder),
		"%#v":      fmt.Sprintf("%#v", holder),
		"%s":       fmt.Sprintf("%s", s),
		"%q":       fmt.Sprintf("%q", s),
		"%x":       fmt.Sprintf("%x", s),
		"%X":       fmt.Sprintf("%X", s),
		"%d":       fmt.Sprintf("%d", s),
		"pointer":  fmt.Sprintf("%v", &s),
		"error":    fmt.Errorf("wrapped: %v", s).Error(),
		"json":     string(js),
		"xml":      string(xm),
		"text":     string(txt),
		"slog":     logBuf.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, "plaintext") || strings.Contains(out, fmt.Sprintf("%x", plain)[:20]) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
	}
	if s.Reveal() != plain {
		t.Fatal("Reveal does not return the plaintext")
	}
}

func TestSecretHintFingerprintEqual(t *testing.T) {
	s := keygate.NewSecret(plain)
	if got := s.Hint(); got != "...xK7q" {
		t.Errorf("Hint = %q", got)
	}
	if got := keygate.NewSecret("short").Hint(); got != "..." {
		t.Errorf("short Hint = %q", got)
	}
	k1, k2 := keygate.NewSecret("server-secret-1"), keygate.NewSecret("server-secret-2")
	fp := s.Fingerprint(k1)
	if fp != keygate.NewSecret(plain).Fingerprint(k1) || fp == s.Fingerprint(k2) || !strings.HasPrefix(fp, "fp_") || len(fp) != 19 {
		t.Errorf("Fingerprint = %q: must be stable, keyed and shaped fp_<16 hex>", fp)
	}
	if !s.Equal(keygate.NewSecret(plain)) || s.Equal(keygate.NewSecret(plain+"x")) {
		t.Error("Equal is wrong")
	}
	w := keygate.NewSecret(plain)
	w.Wipe()
	if strings.Contains(string(w.RevealBytes()), "plaintext") {
		t.Error("Wipe left the plaintext")
	}
}

func TestErrorHelpers(t *testing.T) {
	e := fmt.Errorf("context: %w", keygate.Errorf(keygate.CodeNotFound, "No tenant %q.", "acme"))
	if keygate.ErrorCode(e) != keygate.CodeNotFound || keygate.ErrorMessage(e) != `No tenant "acme".` || !keygate.IsCode(e, keygate.CodeNotFound) {
		t.Errorf("code/message of wrapped *Error: %q %q", keygate.ErrorCode(e), keygate.ErrorMessage(e))
	}
	plainErr := fmt.Errorf("dial tcp: secret detail")
	if keygate.ErrorCode(plainErr) != keygate.CodeInternal || strings.Contains(keygate.ErrorMessage(plainErr), "secret") {
		t.Error("a plain error must be internal with a generic message")
	}
	if keygate.ErrorCode(nil) != "" {
		t.Error("nil error has a code")
	}
}
