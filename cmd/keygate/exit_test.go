// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

func TestExitCodesFromServer(t *testing.T) {
	tests := []struct {
		status   int
		code     string
		wantExit int
	}{
		{404, keygate.CodeNotFound, 3},
		{401, keygate.CodeUnauthorized, 4},
		{403, keygate.CodeForbidden, 4},
		{409, keygate.CodeConflict, 5},
		{400, keygate.CodeInvalidRequest, 6},
		{400, keygate.CodeInvalidJSON, 6},
		{400, keygate.CodeInvalidKeyFormat, 6},
		{400, keygate.CodeUnknownProvider, 6},
		{413, keygate.CodeBodyTooLarge, 6},
		{422, keygate.CodeKeyRejected, 6},
		{501, keygate.CodeUnsupported, 1},
		{503, keygate.CodeUnavailable, 1},
		{500, keygate.CodeInternal, 1},
		{418, "some_future_code", 1},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			s := MustFake(t)
			s.FailNext(tc.status, tc.code, "It failed.")
			r := MustRun(t, s, "", "tenant", "list")
			want := fmt.Sprintf("keygate: It failed. (%s)\n", tc.code)
			if r.exit != tc.wantExit || r.stderr != want || r.stdout != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit %d, stderr %q", r.exit, r.stderr, r.stdout, tc.wantExit, want)
			}
		})
	}
}

func TestExitCodeFor(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"Nil", nil, 0},
		{"Usage", usagef("bad"), 2},
		{"WrappedUsage", fmt.Errorf("serve: %w", usageError{errors.New("bad flag")}), 2},
		{"KeygateError", keygate.Errorf(keygate.CodeConflict, "Taken."), 5},
		{"ClientError", &client.Error{Status: 404, Err: keygate.Errorf(keygate.CodeNotFound, "No.")}, 3},
		{"NetworkError", &client.Error{Err: errors.New("connection refused")}, 1},
		{"Plain", errors.New("boom"), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if got := report(&b, tc.err); got != tc.want {
				t.Errorf("report(%v) = %d, want %d (printed %q)", tc.err, got, tc.want, b.String())
			}
		})
	}
}

func TestUnauthorizedHint(t *testing.T) {
	s := MustFake(t)
	r := runEnv(t, map[string]string{"KEYGATE_ADDR": s.URL}, "", "whoami")
	if r.exit != exitUnauthorized || !strings.Contains(r.stderr, "export KEYGATE_TOKEN") {
		t.Errorf("without a token: exit %d, stderr %q", r.exit, r.stderr)
	}
	r = runEnv(t, map[string]string{"KEYGATE_ADDR": s.URL, "KEYGATE_TOKEN": "kga_wrong"}, "", "whoami")
	if r.exit != exitUnauthorized || strings.Contains(r.stderr, "export KEYGATE_TOKEN") {
		t.Errorf("with a wrong token: exit %d, stderr %q", r.exit, r.stderr)
	}
}

func TestTokenFlag(t *testing.T) {
	s := MustFake(t)
	r := runEnv(t, map[string]string{"KEYGATE_ADDR": s.URL}, "", "whoami", "--token", "kga_platformadmintoken0000000001")
	if r.exit != 0 || !strings.Contains(r.stderr, "prefer KEYGATE_TOKEN") {
		t.Errorf("--token: exit %d, stderr %q; want success and a warning", r.exit, r.stderr)
	}
	r = runEnv(t, map[string]string{"KEYGATE_TOKEN": "kga_platformadmintoken0000000001"}, "", "--addr", s.URL, "whoami", "--json")
	if r.exit != 0 || !strings.Contains(r.stdout, `"role": "platform_admin"`) {
		t.Errorf("--addr before the command: exit %d, stdout %q, stderr %q", r.exit, r.stdout, r.stderr)
	}
}

func TestPlainHTTPWarning(t *testing.T) {
	r := runEnv(t, map[string]string{"KEYGATE_ADDR": "http://192.0.2.1:1", "KEYGATE_TOKEN": "kga_x"}, "", "tenant", "update", "x")
	// A usage error found before any request: no warning yet, nothing sent.
	if strings.Contains(r.stderr, "without TLS") {
		t.Errorf("warned before connecting: %q", r.stderr)
	}
	if !isLoopback("127.0.0.1") || !isLoopback("::1") || !isLoopback("localhost") || isLoopback("example.com") {
		t.Errorf("isLoopback is wrong")
	}
}
