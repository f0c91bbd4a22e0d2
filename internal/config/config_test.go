// SPDX-License-Identifier: Apache-2.0

package config_test

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keygate.toml")
	if err := os.WriteFile(file, []byte(`
addr = "127.0.0.1:7000"
data_dir = "/var/lib/keygate"
log_level = "warn"
byok_default = false
quota_fail_open = true
shutdown_timeout = "5s"
idle_timeout = "30s"
max_connections = 500
[providers.openai]
base_url = "http://127.0.0.1:9999"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(c *config.Config)
	}{
		{"Defaults", nil, nil, func(c *config.Config) {}},
		{"File", nil, map[string]string{"KEYGATE_CONFIG": file}, func(c *config.Config) {
			c.Addr, c.DataDir, c.LogLevel, c.BYOKDefault = "127.0.0.1:7000", "/var/lib/keygate", "warn", false
			c.QuotaFailOpen = true
			c.ShutdownTimeout = config.Duration{Duration: 5 * time.Second}
			c.IdleTimeout, c.MaxConnections = config.Duration{Duration: 30 * time.Second}, 500
			c.Providers = map[string]config.ProviderConfig{"openai": {BaseURL: "http://127.0.0.1:9999"}}
			c.ConfigFile = file
		}},
		{"EnvOverFile", nil, map[string]string{"KEYGATE_CONFIG": file, "KEYGATE_LOG_LEVEL": "debug", "KEYGATE_ADDR": "http://127.0.0.1:8181", "KEYGATE_MAX_CONNECTIONS": "0"}, func(c *config.Config) {
			c.Addr, c.DataDir, c.LogLevel, c.BYOKDefault = "127.0.0.1:8181", "/var/lib/keygate", "debug", false
			c.QuotaFailOpen = true
			c.ShutdownTimeout = config.Duration{Duration: 5 * time.Second}
			c.IdleTimeout, c.MaxConnections = config.Duration{Duration: 30 * time.Second}, 0
			c.Providers = map[string]config.ProviderConfig{"openai": {BaseURL: "http://127.0.0.1:9999"}}
			c.ConfigFile = file
		}},
		{"FlagsOverEnv", []string{"--log-level", "error", "--addr", "127.0.0.1:1", "--byok-default=true"}, map[string]string{"KEYGATE_LOG_LEVEL": "debug", "KEYGATE_BYOK_DEFAULT": "false"}, func(c *config.Config) {
			c.LogLevel, c.Addr = "error", "127.0.0.1:1"
		}},
		{"LogFlushFromEnvAndFlag", []string{"--log-flush-interval", "0"}, map[string]string{"KEYGATE_LOG_FLUSH_INTERVAL": "1s"}, func(c *config.Config) {
			c.LogFlushInterval = config.Duration{}
		}},
		{"LogFlushFromEnv", nil, map[string]string{"KEYGATE_LOG_FLUSH_INTERVAL": "1s"}, func(c *config.Config) {
			c.LogFlushInterval = config.Duration{Duration: time.Second}
		}},
		{"CacheTTLFromEnv", nil, map[string]string{"KEYGATE_CACHE_TTL": "5s"}, func(c *config.Config) {
			c.CacheTTL = config.Duration{Duration: 5 * time.Second}
		}},
		{"QuotaFailOpenFromEnv", nil, map[string]string{"KEYGATE_QUOTA_FAIL_OPEN": "true"}, func(c *config.Config) {
			c.QuotaFailOpen = true
		}},
		{"QuotaFailOpenFlagOverEnv", []string{"--quota-fail-open=false"}, map[string]string{"KEYGATE_QUOTA_FAIL_OPEN": "true"}, func(c *config.Config) {}},
		{"UnpricedModelsFromEnv", nil, map[string]string{"KEYGATE_UNPRICED_MODELS": "refuse"}, func(c *config.Config) { c.UnpricedModels = "refuse" }},
		{"UnpricedModelsFlagOverEnv", []string{"--unpriced-models", "estimate"}, map[string]string{"KEYGATE_UNPRICED_MODELS": "refuse"}, func(c *config.Config) {}},
		{"ConnectionLimitsFromEnvAndFlags", []string{"--body-read-timeout", "15s", "--max-connections", "20"}, map[string]string{"KEYGATE_BODY_READ_TIMEOUT": "2m", "KEYGATE_IDLE_TIMEOUT": "5s", "KEYGATE_MAX_CONNECTIONS": "9"}, func(c *config.Config) {
			c.BodyReadTimeout, c.IdleTimeout, c.MaxConnections = config.Duration{Duration: 15 * time.Second}, config.Duration{Duration: 5 * time.Second}, 20
		}},
		{"AuthThrottleFromEnvAndFlags", []string{"--auth-fail-window", "10m"}, map[string]string{"KEYGATE_AUTH_FAIL_MAX": "5", "KEYGATE_AUTH_FAIL_WINDOW": "2m"}, func(c *config.Config) {
			c.AuthFailMax, c.AuthFailWindow = 5, config.Duration{Duration: 10 * time.Minute}
		}},
		{"ListenAddrWins", nil, map[string]string{"KEYGATE_ADDR": "http://127.0.0.1:8181", "KEYGATE_LISTEN_ADDR": "127.0.0.1:9191"}, func(c *config.Config) {
			c.Addr = "127.0.0.1:9191"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := config.Load(tc.args, env(tc.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			want := config.Default()
			tc.want(&want)
			if err := want.Validate(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.toml")
	_ = os.WriteFile(unknown, []byte("addr = \"127.0.0.1:1\"\nlisten = \"x\"\n"), 0o600)
	badURL := filepath.Join(dir, "badurl.toml")
	_ = os.WriteFile(badURL, []byte("[providers.openai]\nbase_url = \"ftp://x\"\n"), 0o600)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"UnknownFileField", nil, map[string]string{"KEYGATE_CONFIG": unknown}, "unknown field listen"},
		{"BadProviderURL", []string{"--config", badURL}, nil, "providers.openai.base_url"},
		{"BadLogLevel", []string{"--log-level", "loud"}, nil, "log_level"},
		{"BadAddr", []string{"--addr", "nope"}, nil, "addr"},
		{"BadBool", nil, map[string]string{"KEYGATE_BYOK_DEFAULT": "maybe"}, "KEYGATE_BYOK_DEFAULT"},
		{"BadFailOpen", nil, map[string]string{"KEYGATE_QUOTA_FAIL_OPEN": "sometimes"}, "KEYGATE_QUOTA_FAIL_OPEN"},
		{"MissingFile", []string{"--config", filepath.Join(dir, "absent.toml")}, nil, "read config file"},
		{"StrayArgument", []string{"extra"}, nil, "unexpected argument"},
		{"LongLogFlush", []string{"--log-flush-interval", "1m"}, nil, "log_flush_interval"},
		{"ShortCacheTTL", []string{"--cache-ttl", "100ms"}, nil, "cache_ttl"},
		{"NoIdleTimeout", []string{"--idle-timeout", "0"}, nil, "idle_timeout"},
		{"NegativeAuthFailMax", []string{"--auth-fail-max", "-1"}, nil, "auth_fail_max"},
		{"NoAuthFailWindow", nil, map[string]string{"KEYGATE_AUTH_FAIL_WINDOW": "0s"}, "auth_fail_window"},
		{"ShortBodyReadTimeout", nil, map[string]string{"KEYGATE_BODY_READ_TIMEOUT": "10ms"}, "body_read_timeout"},
		{"NegativeMaxConnections", []string{"--max-connections", "-1"}, nil, "max_connections"},
		{"BadMaxConnections", nil, map[string]string{"KEYGATE_MAX_CONNECTIONS": "many"}, "KEYGATE_MAX_CONNECTIONS"},
		{"SmallBody", []string{"--max-body-bytes", "10"}, nil, "max_body_bytes"},
		{"BadMetricsAddr", []string{"--metrics-addr", "nope"}, nil, "metrics_addr"},
		{"MetricsAddrIsMain", []string{"--addr", "127.0.0.1:9000", "--metrics-addr", "127.0.0.1:9000"}, nil, "metrics_addr"},
		{"ShortMetricsToken", nil, map[string]string{"KEYGATE_METRICS_TOKEN": "short"}, "metrics_token"},
		{"CertWithoutKey", []string{"--tls-cert", "cert.pem"}, nil, "tls_cert, tls_key"},
		{"KeyWithoutCert", nil, map[string]string{"KEYGATE_TLS_KEY": "key.pem"}, "tls_cert, tls_key"},
		{"BadUnpricedModels", []string{"--unpriced-models", "free"}, nil, "unpriced_models"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(tc.args, env(tc.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestLoadHelp(t *testing.T) {
	var out strings.Builder
	_, err := config.Load([]string{"-h"}, env(nil), &out)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "-master-key") {
		t.Fatalf("err = %v, usage = %q", err, out.String())
	}
}

func TestAdminTokenFromEnvOnly(t *testing.T) {
	c, err := config.Load(nil, env(map[string]string{"KEYGATE_ADMIN_TOKEN": "kga_secret_value"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminToken.Reveal() != "kga_secret_value" {
		t.Fatal("admin token not read from KEYGATE_ADMIN_TOKEN")
	}
}

// TestOperatorSurfaceOptions: the metrics listener, its token and the TLS
// files come from the file, the environment and flags, in that order of
// precedence; the token is never printed.
func TestOperatorSurfaceOptions(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keygate.toml")
	if err := os.WriteFile(file, []byte(`
metrics_addr = "127.0.0.1:9100"
metrics_token = "file-token-0123456789"
tls_cert = "/etc/keygate/cert.pem"
tls_key = "/etc/keygate/key.pem"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                          string
		args                          []string
		env                           map[string]string
		metricsAddr, token, cert, key string
	}{
		{"Defaults", nil, nil, "", "", "", ""},
		{"File", []string{"--config", file}, nil, "127.0.0.1:9100", "file-token-0123456789", "/etc/keygate/cert.pem", "/etc/keygate/key.pem"},
		{"EnvOverFile", []string{"--config", file}, map[string]string{"KEYGATE_METRICS_ADDR": "127.0.0.1:9200", "KEYGATE_METRICS_TOKEN": "env-token-0123456789", "KEYGATE_TLS_CERT": "c.pem", "KEYGATE_TLS_KEY": "k.pem"},
			"127.0.0.1:9200", "env-token-0123456789", "c.pem", "k.pem"},
		{"FlagsOverEnv", []string{"--metrics-addr", "127.0.0.1:9300", "--metrics-token", "flag-token-0123456789", "--tls-cert", "fc.pem", "--tls-key", "fk.pem"}, map[string]string{"KEYGATE_METRICS_ADDR": "127.0.0.1:9200", "KEYGATE_METRICS_TOKEN": "env-token-0123456789"},
			"127.0.0.1:9300", "flag-token-0123456789", "fc.pem", "fk.pem"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(tc.args, env(tc.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{c.MetricsAddr, c.MetricsToken.Reveal(), c.TLSCert, c.TLSKey}
			if diff := cmp.Diff([]string{tc.metricsAddr, tc.token, tc.cert, tc.key}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tc.token != "" && strings.Contains(fmt.Sprintf("%v %+v", c, c), tc.token) {
				t.Error("the metrics token is printed with the configuration")
			}
		})
	}
}
