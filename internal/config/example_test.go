// SPDX-License-Identifier: Apache-2.0

package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/config"
)

const exampleFile = "../../keygate.example.toml"

// TestExampleConfig loads keygate.example.toml, the example configuration
// the release archives and the systemd unit ship: as it is (every option
// it sets is at its default, but the data directory), and with every
// commented-out option uncommented (the strict decoder refuses a key that
// is no option), and checks that it names every option of the file format,
// so that it cannot drift from the real options.
func TestExampleConfig(t *testing.T) {
	raw, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	load := func(text string) config.Config {
		t.Helper()
		path := filepath.Join(t.TempDir(), "keygate.toml")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(nil, func(k string) string {
			if k == "KEYGATE_CONFIG" {
				return path
			}
			return ""
		}, nil)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		return cfg
	}

	// As shipped: the defaults, in the systemd unit's /var/lib/keygate.
	got := reflect.ValueOf(load(string(raw)))
	def := reflect.ValueOf(load(`data_dir = "/var/lib/keygate"`))
	for i := range got.NumField() {
		f := got.Type().Field(i)
		switch f.Name {
		case "ConfigFile", "AdminToken", "MetricsToken":
		default:
			if !reflect.DeepEqual(got.Field(i).Interface(), def.Field(i).Interface()) {
				t.Errorf("%s = %v in the example, %v by default: the example says it shows the defaults", f.Name, got.Field(i), def.Field(i))
			}
		}
	}

	// Every option, uncommented.
	commented := regexp.MustCompile(`(?m)^# ((\[[a-z_.]+\])|([a-z_]+ = .*))$`)
	all := commented.ReplaceAllString(string(raw), "$1")
	cfg := load(all)
	if cfg.DatabaseURL == "" || cfg.RedisURL == "" || cfg.TLSCert == "" || cfg.Providers["openai"].BaseURL == "" {
		t.Errorf("the uncommented examples did not load: %+v", cfg)
	}

	// Every key of the file format is in the example.
	keys := tomlKeys(reflect.TypeFor[config.Config](), "")
	keys = append(keys, tomlKeys(reflect.TypeFor[config.ProviderConfig](), "")...)
	for _, k := range keys {
		if !regexp.MustCompile(`(?m)^(# )?` + regexp.QuoteMeta(k) + ` = `).MatchString(string(raw)) {
			t.Errorf("keygate.example.toml does not show the option %s", k)
		}
	}
	if !strings.Contains(string(raw), "[providers.") {
		t.Error("keygate.example.toml does not show a [providers.NAME] table")
	}
}

// tomlKeys returns the TOML keys of a struct's fields, leaving out the ones
// tagged "-" (never read from the file) and maps (tables, checked apart).
func tomlKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if tag == "" || tag == "-" || f.Type.Kind() == reflect.Map {
			continue
		}
		out = append(out, prefix+tag)
	}
	return out
}
