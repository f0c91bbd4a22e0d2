// SPDX-License-Identifier: Apache-2.0

package config_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/keygate/keygate/internal/config"
)

// FuzzConfigFile: any configuration file either loads into a valid
// configuration or fails with an error; it never panics.
func FuzzConfigFile(f *testing.F) {
	f.Add("addr = \"127.0.0.1:9\"\n")
	f.Add("[providers.openai]\nbase_url = \"http://x\"\n")
	f.Add("shutdown_timeout = \"-1s\"\n")
	f.Add("log_level = 3\n")
	f.Add("[[x]]\n")
	f.Fuzz(func(t *testing.T, content string) {
		p := filepath.Join(t.TempDir(), "c.toml")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load([]string{"--config", p}, func(string) string { return "" }, io.Discard)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Load returned an invalid configuration: %v", verr)
			}
		}
	})
}
