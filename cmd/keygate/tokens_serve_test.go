package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

// TestServeBootstrapTokenApart: the generated first admin token is written
// to a 0600 file in the data directory whose path the log names; it never
// appears among the log lines, which all stay JSON, and it works.
func TestServeBootstrapTokenApart(t *testing.T) {
	dir := t.TempDir()
	s := MustServe(t, dir, map[string]string{})
	path := filepath.Join(dir, bootstrapTokenFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no bootstrap token file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("bootstrap token file mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.HasPrefix(s.Token, "kga_") {
		t.Fatalf("bootstrap token file holds %d bytes, not a token", len(s.Token))
	}
	logs := s.Logs.Bytes()
	if bytes.Contains(logs, []byte(s.Token)) {
		t.Error("the bootstrap token is in the log")
	}
	named := false
	sc := bufio.NewScanner(bytes.NewReader(logs))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Errorf("a line of stderr is not a JSON log line: %q", sc.Text())
			continue
		}
		if rec["token_file"] == path {
			named = true
		}
	}
	if !named {
		t.Errorf("no log line names the token file %s", path)
	}
	c, err := client.New(s.URL, keygate.NewSecret(s.Token))
	if err != nil {
		t.Fatal(err)
	}
	if id, err := c.WhoAmI(context.Background()); err != nil || id.Role != keygate.RolePlatformAdmin {
		t.Fatalf("whoami with the bootstrap token: %+v %v", id, err)
	}
}

// TestServeRefusesWeakAdminToken: a KEYGATE_ADMIN_TOKEN with less than 128
// bits of estimated entropy stops the start with a usage error that names
// the variable and the minimum, never the value, before anything is
// created.
func TestServeRefusesWeakAdminToken(t *testing.T) {
	for name, weak := range map[string]string{
		"Word":     "kga_secret_value",
		"Short":    "changeme",
		"Repeated": "kga_" + strings.Repeat("A", 64),
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			env := map[string]string{"KEYGATE_ADMIN_TOKEN": weak}
			var stderr bytes.Buffer
			err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &stderr)
			code := report(&stderr, err)
			out := stderr.String()
			if code != exitUsage || !strings.Contains(out, "KEYGATE_ADMIN_TOKEN") || !strings.Contains(out, "128") {
				t.Fatalf("exit %d, stderr %q: want a usage error naming KEYGATE_ADMIN_TOKEN and 128 bits", code, out)
			}
			if strings.Contains(out, strings.TrimPrefix(weak, "kga_")) {
				t.Errorf("the error shows the token: %q", out)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("data directory created for a refused token: %v", err)
			}
		})
	}
}
