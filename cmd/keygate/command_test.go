// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/client/clienttest"
)

// TestKeyArgsAccepted checks the other side of the argv guard of key set and
// key test (TestKeySetRefusesArgv, TestKeyTestRefusesArgv): every flag of the
// command, in every form the flag package takes, gets through it.
func TestKeyArgsAccepted(t *testing.T) {
	tests := []struct {
		name, verb string
		args       []string
	}{
		{"SetSpaced", "set", []string{"--tenant", "acme", "--provider", "openai"}},
		{"SetEquals", "set", []string{"--tenant=acme", "-provider=openai"}},
		{"SetBools", "set", []string{"--platform=true", "--provider", "openai", "--test", "--json=false"}},
		{"SetFlagsLast", "set", []string{"--provider", "openai", "--platform", "--test=true", "--json"}},
		{"SetDashDashLast", "set", []string{"--platform", "--provider", "openai", "--"}},
		{"TestSpaced", "test", []string{"--tenant", "acme", "--provider", "openai"}},
		{"TestBools", "test", []string{"-platform", "--json=true", "--provider=openai"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustFake(t)
			MustTenant(t, s, "acme")
			// The global flags too, given to the command: --addr and
			// --token take a value.
			args := append([]string{"key", tc.verb, "--addr", s.URL, "--token=" + clienttest.Token}, tc.args...)
			r := runEnv(t, nil, canary, args...)
			noLeak(t, r)
			if r.exit != exitOK {
				t.Errorf("exit %d, stderr %q; want 0", r.exit, r.stderr)
			}
		})
	}
}

func TestViewPrint(t *testing.T) {
	errBad := errors.New("bad answer")
	text := func(w io.Writer, v []string) error {
		_, err := io.WriteString(w, strings.Join(v, ",")+"\n")
		return err
	}
	tests := []struct {
		name       string
		vw         view[[]string]
		json       bool
		v          []string
		wantStdout string
		wantErr    error
	}{
		{"Text", view[[]string]{text: text}, false, []string{"a", "b"}, "a,b\n", nil},
		{"JSONAsIs", view[[]string]{text: text}, true, []string{"a"}, "[\n  \"a\"\n]\n", nil},
		{"JSONDocument", view[[]string]{text: text, json: func(v []string) any {
			return struct {
				Items []string `json:"items"`
			}{nonNil(v)}
		}}, true, nil, "{\n  \"items\": []\n}\n", nil},
		// The verdict comes after the answer, in either form.
		{"VerdictText", view[[]string]{text: text, verdict: func([]string) error { return errBad }}, false, []string{"x"}, "x\n", errBad},
		{"VerdictJSON", view[[]string]{text: text, verdict: func([]string) error { return errBad }}, true, []string{"x"}, "[\n  \"x\"\n]\n", errBad},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout bytes.Buffer
			c := &cli{stdout: &stdout, stderr: io.Discard, jsonOut: tc.json}
			err := tc.vw.print(c, tc.v)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("print: err %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantStdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
		})
	}
}
