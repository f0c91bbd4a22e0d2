// SPDX-License-Identifier: Apache-2.0

// Package config loads keygate's server configuration: one struct with
// documented defaults, filled from an optional TOML file, then KEYGATE_*
// environment variables, then flags (flags win), decoded strictly and
// validated at load.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/keygate/keygate"
)

// Config is the server's configuration. The zero value is not valid; use
// Load, or Default and then Validate.
type Config struct {
	// Addr is the listen address. Default 127.0.0.1:8080.
	Addr string `toml:"addr"`
	// DataDir holds the embedded database and the local master key file.
	// Default ./keygate-data.
	DataDir string `toml:"data_dir"`
	// DatabaseURL selects storage: a postgres:// or postgresql:// URL, or the
	// path of a SQLite file. Default <data-dir>/keygate.db.
	DatabaseURL string `toml:"database_url"`
	// MasterKey is the master-key URL: file:///path (default
	// file://<data-dir>/master.key), env://VARNAME, or a KMS/Vault URL
	// (base64key://, hashivault://, awskms://, ...).
	MasterKey string `toml:"master_key"`
	// MasterKeyPrevious lists master-key URLs still needed to read records
	// that have not been re-wrapped yet (for env and KMS keepers).
	MasterKeyPrevious []string `toml:"master_key_previous"`
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel string `toml:"log_level"`
	// LogFlushInterval is how long an Info line (the access log) may wait
	// in memory before it is written; lines gather and are written
	// together. Warnings and errors are written at once. 0 writes every
	// line as it comes. Default 200ms.
	LogFlushInterval Duration `toml:"log_flush_interval"`
	// BYOKDefault is byok_enabled for new tenants. Default true.
	BYOKDefault bool `toml:"byok_default"`
	// MaxBodyBytes caps management API request bodies. Default 1 MiB.
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// MaxRequestBytes caps gateway request bodies that keygate reads to
	// find the model (and passthrough bodies). Default 32 MiB.
	MaxRequestBytes int64 `toml:"max_request_bytes"`
	// KeyGrace is how long a superseded key version stays restorable
	// (rollback) before its ciphertext is destroyed. Default 24h.
	KeyGrace Duration `toml:"key_grace"`
	// CacheTTL bounds how long the gateway uses what it cached of storage
	// (gateway tokens, tenant settings, opened provider keys) before it
	// reads it again. Changes made through this process apply at once and
	// other replicas hear of theirs through the change feed, so this is the
	// safety net behind both, and also how long calls with cached
	// credentials keep working while storage is unreachable. Default 30s;
	// between 1s and 1h.
	CacheTTL Duration `toml:"cache_ttl"`
	// HealthInterval is how often every stored key is re-tested against
	// its provider (jittered by ±10%). Default 6h; 0 or less disables.
	HealthInterval Duration `toml:"health_interval"`
	// RedisURL, when set, keeps budget and rate-limit counters in Redis
	// so they hold across replicas; empty keeps them in memory (one node).
	RedisURL string `toml:"redis_url"`
	// QuotaFailOpen admits calls that a budget or rate limit covers when
	// their counters cannot be reached (Redis down), logging each one;
	// off (the default) refuses them with 503 unavailable, since a hard
	// budget that cannot be checked is not enforced by guessing.
	QuotaFailOpen bool `toml:"quota_fail_open"`
	// PricesFile overrides or extends the built-in price table (JSON).
	PricesFile string `toml:"prices_file"`
	// UnpricedModels is what a platform-paid call to a model without a
	// price gets: "estimate" (the default: costed at its provider's
	// fallback price, marked estimated) or "refuse" (422 model_unpriced).
	UnpricedModels string `toml:"unpriced_models"`
	// OTLPEndpoint is the OTLP/HTTP endpoint traces are exported to; empty
	// (the default) turns tracing off.
	OTLPEndpoint string `toml:"otlp_endpoint"`
	// TraceSampleRatio is the share of calls traced when tracing is on.
	// Default 1.
	TraceSampleRatio float64 `toml:"trace_sample_ratio"`
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request before the server closes it. Default 120s; between 1s
	// and 1h.
	IdleTimeout Duration `toml:"idle_timeout"`
	// BodyReadTimeout is how long a request has, once its headers are in,
	// to deliver its body; a body still arriving then is answered 408
	// request_timeout. Answers streamed out are not limited. Default 60s;
	// between 1s and 1h.
	BodyReadTimeout Duration `toml:"body_read_timeout"`
	// MaxConnections caps the client connections held open at once
	// (active and idle); past it new connections wait in the kernel's
	// backlog until one closes. Default 10000; 0 means no cap.
	MaxConnections int `toml:"max_connections"`
	// AuditCheckpointFile, if set, is where the server publishes a signed
	// checkpoint of the audit trail's head (JSON, replaced atomically, mode
	// 0600) every AuditCheckpointInterval and at shutdown; keep it outside
	// the database's reach, and check the trail against it with keygate
	// audit verify --checkpoint FILE. Default: none.
	AuditCheckpointFile string `toml:"audit_checkpoint_file"`
	// AuditCheckpointInterval is how often the checkpoint file is
	// rewritten. Default 1m; between 1s and 24h.
	AuditCheckpointInterval Duration `toml:"audit_checkpoint_interval"`
	// AuthFailMax is how many failed authentications (admin or gateway
	// token) one client address may make per AuthFailWindow; past it the
	// address gets 429 auth_throttled until its window ends. Default 20;
	// 0 turns throttling off.
	AuthFailMax int `toml:"auth_fail_max"`
	// AuthFailWindow is the window of AuthFailMax. Default 1m; between 1s
	// and 24h.
	AuthFailWindow Duration `toml:"auth_fail_window"`
	// ShutdownTimeout bounds the drain of in-flight requests on SIGINT or
	// SIGTERM. Default 30s.
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
	// MetricsAddr, when set, is a listen address of its own for /metrics,
	// which the main address then no longer serves (keep it on a private
	// interface). Empty (the default): /metrics on the main address.
	MetricsAddr string `toml:"metrics_addr"`
	// MetricsToken, when set, is required as "Authorization: Bearer" on
	// /metrics, wherever it is served (compared in constant time; never
	// logged). At least 16 characters. Empty (the default): no token.
	MetricsToken Secret `toml:"metrics_token"`
	// TLSCert and TLSKey, set together, are the paths of a PEM certificate
	// (chain) and its private key: keygate then serves HTTPS (TLS 1.2 or
	// newer) on the main address and the metrics address, and reloads the
	// pair when the files change. Empty (the default): plain HTTP, for use
	// behind a TLS-terminating proxy.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// Providers holds per-provider operator settings, by catalog name.
	Providers map[string]ProviderConfig `toml:"providers"`

	// AdminToken, from KEYGATE_ADMIN_TOKEN only (never a flag or the file),
	// is the platform-admin token to create at first start instead of a
	// generated one.
	AdminToken keygate.Secret `toml:"-"`
	// ConfigFile is the file the configuration was read from, if any.
	ConfigFile string `toml:"-"`
}

// ProviderConfig is an operator's per-provider setting.
type ProviderConfig struct {
	// BaseURL overrides the catalog's base URL (tests point providers at a
	// local fake this way). Only the operator can set it.
	BaseURL string `toml:"base_url"`
}

// Secret is a keygate.Secret that decodes from a TOML string.
type Secret struct{ keygate.Secret }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Secret) UnmarshalText(b []byte) error {
	s.Secret = keygate.NewSecret(string(b))
	return nil
}

// Equal compares in constant time.
func (s Secret) Equal(o Secret) bool { return s.Secret.Equal(o.Secret) }

// Duration is a time.Duration that decodes from strings like "30s".
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Addr:             "127.0.0.1:8080",
		DataDir:          "keygate-data",
		LogLevel:         "info",
		LogFlushInterval: Duration{200 * time.Millisecond},
		BYOKDefault:      true,
		MaxBodyBytes:     1 << 20,
		MaxRequestBytes:  32 << 20,
		ShutdownTimeout:  Duration{30 * time.Second},
		KeyGrace:         Duration{24 * time.Hour},
		TraceSampleRatio: 1,
		HealthInterval:   Duration{6 * time.Hour},
		CacheTTL:         Duration{30 * time.Second},
		IdleTimeout:      Duration{120 * time.Second},
		BodyReadTimeout:  Duration{60 * time.Second},
		MaxConnections:   10000,
		UnpricedModels:   "estimate",

		AuditCheckpointInterval: Duration{time.Minute},
		AuthFailMax:             20,
		AuthFailWindow:          Duration{time.Minute},
	}
}

// Load builds the configuration of `keygate serve` from args (flags), getenv
// (KEYGATE_* variables) and the optional file named by --config or
// KEYGATE_CONFIG, in that order of precedence. It returns flag.ErrHelp when
// help was asked for (usage already written to out), and an error naming the
// field or flag for anything invalid.
func Load(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet("keygate serve", flag.ContinueOnError)
	fs.SetOutput(out)
	var (
		configFile  = fs.String("config", "", "configuration file (TOML) [KEYGATE_CONFIG]")
		addr        = fs.String("addr", c.Addr, "listen address [KEYGATE_LISTEN_ADDR, or the host:port of KEYGATE_ADDR]")
		dataDir     = fs.String("data-dir", c.DataDir, "data directory for the embedded database and master key file [KEYGATE_DATA_DIR]")
		dbURL       = fs.String("database-url", "", "postgres:// URL or SQLite file path (default <data-dir>/keygate.db) [KEYGATE_DATABASE_URL]")
		masterKey   = fs.String("master-key", "", "master key URL: file:///path, env://VAR, base64key://, hashivault://, awskms://... (default file://<data-dir>/master.key) [KEYGATE_MASTER_KEY]")
		masterPrev  = fs.String("master-key-previous", "", "comma-separated master key URLs still needed for reads until re-wrapped [KEYGATE_MASTER_KEY_PREVIOUS]")
		logLevel    = fs.String("log-level", c.LogLevel, "debug, info, warn or error [KEYGATE_LOG_LEVEL]")
		logFlush    = fs.Duration("log-flush-interval", c.LogFlushInterval.Duration, "how long an info line may wait to be written with others; 0: at once [KEYGATE_LOG_FLUSH_INTERVAL]")
		byokDefault = fs.Bool("byok-default", c.BYOKDefault, "byok_enabled for new tenants [KEYGATE_BYOK_DEFAULT]")
		maxBody     = fs.Int64("max-body-bytes", c.MaxBodyBytes, "limit of management API request bodies [KEYGATE_MAX_BODY_BYTES]")
		maxRequest  = fs.Int64("max-request-bytes", c.MaxRequestBytes, "limit of gateway request bodies [KEYGATE_MAX_REQUEST_BYTES]")
		keyGrace    = fs.Duration("key-grace", c.KeyGrace.Duration, "how long a superseded key version can be rolled back to [KEYGATE_KEY_GRACE]")
		cacheTTL    = fs.Duration("cache-ttl", c.CacheTTL.Duration, "how long cached tokens, tenant settings and keys are used before they are read again [KEYGATE_CACHE_TTL]")
		healthEvery = fs.Duration("health-interval", c.HealthInterval.Duration, "how often stored keys are re-tested; 0 disables [KEYGATE_HEALTH_INTERVAL]")
		redisURL    = fs.String("redis-url", "", "Redis URL for budget and rate-limit counters shared by replicas; empty: in memory [KEYGATE_REDIS_URL]")
		failOpen    = fs.Bool("quota-fail-open", c.QuotaFailOpen, "admit budgeted calls when the counters cannot be reached, instead of 503 [KEYGATE_QUOTA_FAIL_OPEN]")
		pricesFile  = fs.String("prices-file", "", "JSON file overriding the built-in price table [KEYGATE_PRICES_FILE]")
		unpriced    = fs.String("unpriced-models", c.UnpricedModels, "platform-paid calls to a model without a price: estimate (fallback price) or refuse [KEYGATE_UNPRICED_MODELS]")
		otlp        = fs.String("otlp-endpoint", "", "OTLP/HTTP endpoint for traces; empty: tracing off [KEYGATE_OTLP_ENDPOINT]")
		idle        = fs.Duration("idle-timeout", c.IdleTimeout.Duration, "how long a keep-alive connection may wait for its next request [KEYGATE_IDLE_TIMEOUT]")
		bodyRead    = fs.Duration("body-read-timeout", c.BodyReadTimeout.Duration, "how long a request has to deliver its body; streamed answers are not limited [KEYGATE_BODY_READ_TIMEOUT]")
		maxConns    = fs.Int("max-connections", c.MaxConnections, "client connections held open at once; 0: no cap [KEYGATE_MAX_CONNECTIONS]")
		cpFile      = fs.String("audit-checkpoint-file", "", "publish a signed checkpoint of the audit trail's head to this file (0600) on an interval and at shutdown [KEYGATE_AUDIT_CHECKPOINT_FILE]")
		cpEvery     = fs.Duration("audit-checkpoint-interval", c.AuditCheckpointInterval.Duration, "how often the audit checkpoint file is rewritten [KEYGATE_AUDIT_CHECKPOINT_INTERVAL]")
		authFails   = fs.Int("auth-fail-max", c.AuthFailMax, "failed authentications per client address per window before it is throttled; 0: off [KEYGATE_AUTH_FAIL_MAX]")
		authWindow  = fs.Duration("auth-fail-window", c.AuthFailWindow.Duration, "the window of --auth-fail-max [KEYGATE_AUTH_FAIL_WINDOW]")
		shutdown    = fs.Duration("shutdown-timeout", c.ShutdownTimeout.Duration, "drain time for in-flight requests at shutdown [KEYGATE_SHUTDOWN_TIMEOUT]")
		metricsAddr = fs.String("metrics-addr", "", "serve /metrics on this address of its own instead of --addr [KEYGATE_METRICS_ADDR]")
		metricsTok  = fs.String("metrics-token", "", "bearer token required on /metrics; prefer KEYGATE_METRICS_TOKEN, argv is visible to local users [KEYGATE_METRICS_TOKEN]")
		tlsCert     = fs.String("tls-cert", "", "PEM certificate file: serve HTTPS, reloaded when it changes (with --tls-key) [KEYGATE_TLS_CERT]")
		tlsKey      = fs.String("tls-key", "", "PEM private key file of --tls-cert [KEYGATE_TLS_KEY]")
	)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	// 1. The file.
	path := getenv("KEYGATE_CONFIG")
	if set["config"] {
		path = *configFile
	}
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return Config{}, err
		}
		c.ConfigFile = path
	}

	// 2. The environment.
	if err := c.applyEnv(getenv); err != nil {
		return Config{}, err
	}

	// 3. Flags that were set explicitly.
	if set["addr"] {
		c.Addr = *addr
	}
	if set["data-dir"] {
		c.DataDir = *dataDir
	}
	if set["database-url"] {
		c.DatabaseURL = *dbURL
	}
	if set["master-key"] {
		c.MasterKey = *masterKey
	}
	if set["master-key-previous"] {
		c.MasterKeyPrevious = splitList(*masterPrev)
	}
	if set["log-level"] {
		c.LogLevel = *logLevel
	}
	if set["byok-default"] {
		c.BYOKDefault = *byokDefault
	}
	if set["max-body-bytes"] {
		c.MaxBodyBytes = *maxBody
	}
	if set["max-request-bytes"] {
		c.MaxRequestBytes = *maxRequest
	}
	if set["key-grace"] {
		c.KeyGrace = Duration{*keyGrace}
	}
	if set["cache-ttl"] {
		c.CacheTTL = Duration{*cacheTTL}
	}
	if set["health-interval"] {
		c.HealthInterval = Duration{*healthEvery}
	}
	if set["redis-url"] {
		c.RedisURL = *redisURL
	}
	if set["quota-fail-open"] {
		c.QuotaFailOpen = *failOpen
	}
	if set["prices-file"] {
		c.PricesFile = *pricesFile
	}
	if set["unpriced-models"] {
		c.UnpricedModels = *unpriced
	}
	if set["otlp-endpoint"] {
		c.OTLPEndpoint = *otlp
	}
	if set["idle-timeout"] {
		c.IdleTimeout = Duration{*idle}
	}
	if set["body-read-timeout"] {
		c.BodyReadTimeout = Duration{*bodyRead}
	}
	if set["max-connections"] {
		c.MaxConnections = *maxConns
	}
	if set["auth-fail-max"] {
		c.AuthFailMax = *authFails
	}
	if set["auth-fail-window"] {
		c.AuthFailWindow = Duration{*authWindow}
	}
	if set["shutdown-timeout"] {
		c.ShutdownTimeout = Duration{*shutdown}
	}
	if set["audit-checkpoint-file"] {
		c.AuditCheckpointFile = *cpFile
	}
	if set["audit-checkpoint-interval"] {
		c.AuditCheckpointInterval = Duration{*cpEvery}
	}
	if set["log-flush-interval"] {
		c.LogFlushInterval = Duration{*logFlush}
	}
	if set["metrics-addr"] {
		c.MetricsAddr = *metricsAddr
	}
	if set["metrics-token"] {
		c.MetricsToken = Secret{keygate.NewSecret(*metricsTok)}
	}
	if set["tls-cert"] {
		c.TLSCert = *tlsCert
	}
	if set["tls-key"] {
		c.TLSKey = *tlsKey
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config file: %w", err)
	}
	md, err := toml.Decode(string(b), c)
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return fmt.Errorf("config file %s: unknown field %s", path, strings.Join(keys, ", "))
	}
	return nil
}

// applyEnv reads the KEYGATE_* variables. KEYGATE_ADDR is also the address
// the CLI talks to (http://127.0.0.1:8080), so serve takes the host:port of
// that URL; KEYGATE_LISTEN_ADDR, when set, wins.
func (c *Config) applyEnv(getenv func(string) string) error {
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	if v := getenv("KEYGATE_ADDR"); v != "" {
		if u, err := url.Parse(v); err == nil && u.Host != "" {
			v = u.Host
		}
		c.Addr = v
	}
	str("KEYGATE_LISTEN_ADDR", &c.Addr)
	str("KEYGATE_DATA_DIR", &c.DataDir)
	str("KEYGATE_DATABASE_URL", &c.DatabaseURL)
	str("KEYGATE_MASTER_KEY", &c.MasterKey)
	str("KEYGATE_AUDIT_CHECKPOINT_FILE", &c.AuditCheckpointFile)
	str("KEYGATE_LOG_LEVEL", &c.LogLevel)
	str("KEYGATE_OTLP_ENDPOINT", &c.OTLPEndpoint)
	str("KEYGATE_REDIS_URL", &c.RedisURL)
	str("KEYGATE_PRICES_FILE", &c.PricesFile)
	str("KEYGATE_UNPRICED_MODELS", &c.UnpricedModels)
	str("KEYGATE_METRICS_ADDR", &c.MetricsAddr)
	str("KEYGATE_TLS_CERT", &c.TLSCert)
	str("KEYGATE_TLS_KEY", &c.TLSKey)
	if v := getenv("KEYGATE_METRICS_TOKEN"); v != "" {
		c.MetricsToken = Secret{keygate.NewSecret(v)}
	}
	if v := getenv("KEYGATE_MASTER_KEY_PREVIOUS"); v != "" {
		c.MasterKeyPrevious = splitList(v)
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"KEYGATE_BYOK_DEFAULT", &c.BYOKDefault}, {"KEYGATE_QUOTA_FAIL_OPEN", &c.QuotaFailOpen}} {
		if v := getenv(b.name); v != "" {
			x, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a boolean", b.name, v)
			}
			*b.dst = x
		}
	}
	if v := getenv("KEYGATE_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("KEYGATE_MAX_BODY_BYTES: %q is not an integer", v)
		}
		c.MaxBodyBytes = n
	}
	if v := getenv("KEYGATE_MAX_REQUEST_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("KEYGATE_MAX_REQUEST_BYTES: %q is not an integer", v)
		}
		c.MaxRequestBytes = n
	}
	if v := getenv("KEYGATE_MAX_CONNECTIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("KEYGATE_MAX_CONNECTIONS: %q is not an integer", v)
		}
		c.MaxConnections = n
	}
	if v := getenv("KEYGATE_AUTH_FAIL_MAX"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("KEYGATE_AUTH_FAIL_MAX: %q is not an integer", v)
		}
		c.AuthFailMax = n
	}
	for _, d := range []struct {
		name string
		dst  *Duration
	}{
		{"KEYGATE_KEY_GRACE", &c.KeyGrace}, {"KEYGATE_HEALTH_INTERVAL", &c.HealthInterval}, {"KEYGATE_LOG_FLUSH_INTERVAL", &c.LogFlushInterval}, {"KEYGATE_CACHE_TTL", &c.CacheTTL},
		{"KEYGATE_IDLE_TIMEOUT", &c.IdleTimeout}, {"KEYGATE_BODY_READ_TIMEOUT", &c.BodyReadTimeout},
		{"KEYGATE_AUDIT_CHECKPOINT_INTERVAL", &c.AuditCheckpointInterval},
		{"KEYGATE_AUTH_FAIL_WINDOW", &c.AuthFailWindow},
	} {
		if v := getenv(d.name); v != "" {
			v, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %w", d.name, err)
			}
			d.dst.Duration = v
		}
	}
	if v := getenv("KEYGATE_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("KEYGATE_SHUTDOWN_TIMEOUT: %w", err)
		}
		c.ShutdownTimeout = Duration{d}
	}
	if v := getenv("KEYGATE_ADMIN_TOKEN"); v != "" {
		c.AdminToken = keygate.NewSecret(v)
	}
	return nil
}

// ApplyProviderEnv sets Providers[name].BaseURL from the variable that
// envName gives for each catalog provider name (KEYGATE_<NAME>_BASE_URL);
// the environment wins over the file.
func (c *Config) ApplyProviderEnv(names []string, envName func(string) string, getenv func(string) string) error {
	for _, n := range names {
		v := getenv(envName(n))
		if v == "" {
			continue
		}
		if c.Providers == nil {
			c.Providers = map[string]ProviderConfig{}
		}
		p := c.Providers[n]
		p.BaseURL = v
		c.Providers[n] = p
	}
	return nil
}

// Validate checks every field and fills the defaults that depend on others
// (database and master key paths under the data directory).
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr: %q is not host:port", c.Addr))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: must not be empty"))
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("metrics_addr: %q is not host:port", c.MetricsAddr))
		} else if c.MetricsAddr == c.Addr && port != "0" {
			errs = append(errs, fmt.Errorf("metrics_addr: %q is the main address; leave metrics_addr empty to serve /metrics there", c.MetricsAddr))
		}
	}
	if n := c.MetricsToken.Len(); n > 0 && n < 16 {
		errs = append(errs, fmt.Errorf("metrics_token: %d characters is below the minimum of 16", n))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls_cert, tls_key: set both (HTTPS) or neither (plain HTTP)"))
	}
	if _, err := ParseLogLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.UnpricedModels != "estimate" && c.UnpricedModels != "refuse" {
		errs = append(errs, fmt.Errorf("unpriced_models: %q is not estimate or refuse", c.UnpricedModels))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("max_body_bytes: %d is below the minimum of 1024", c.MaxBodyBytes))
	}
	if c.MaxRequestBytes < 1024 {
		errs = append(errs, fmt.Errorf("max_request_bytes: %d is below the minimum of 1024", c.MaxRequestBytes))
	}
	if c.KeyGrace.Duration < time.Minute {
		errs = append(errs, fmt.Errorf("key_grace: %s is below the minimum of 1m", c.KeyGrace.Duration))
	}
	if c.TraceSampleRatio < 0 || c.TraceSampleRatio > 1 {
		errs = append(errs, fmt.Errorf("trace_sample_ratio: %v is not between 0 and 1", c.TraceSampleRatio))
	}
	if c.ShutdownTimeout.Duration < 0 {
		errs = append(errs, errors.New("shutdown_timeout: must not be negative"))
	}
	if c.CacheTTL.Duration < time.Second || c.CacheTTL.Duration > time.Hour {
		errs = append(errs, fmt.Errorf("cache_ttl: %s is not between 1s and 1h", c.CacheTTL.Duration))
	}
	if c.IdleTimeout.Duration < time.Second || c.IdleTimeout.Duration > time.Hour {
		errs = append(errs, fmt.Errorf("idle_timeout: %s is not between 1s and 1h", c.IdleTimeout.Duration))
	}
	if c.BodyReadTimeout.Duration < time.Second || c.BodyReadTimeout.Duration > time.Hour {
		errs = append(errs, fmt.Errorf("body_read_timeout: %s is not between 1s and 1h", c.BodyReadTimeout.Duration))
	}
	if c.AuditCheckpointInterval.Duration < time.Second || c.AuditCheckpointInterval.Duration > 24*time.Hour {
		errs = append(errs, fmt.Errorf("audit_checkpoint_interval: %s is not between 1s and 24h", c.AuditCheckpointInterval.Duration))
	}
	if c.MaxConnections < 0 {
		errs = append(errs, fmt.Errorf("max_connections: %d is negative (0 means no cap)", c.MaxConnections))
	}
	if c.AuthFailMax < 0 {
		errs = append(errs, fmt.Errorf("auth_fail_max: %d is negative (0 turns throttling off)", c.AuthFailMax))
	}
	if c.AuthFailWindow.Duration < time.Second || c.AuthFailWindow.Duration > 24*time.Hour {
		errs = append(errs, fmt.Errorf("auth_fail_window: %s is not between 1s and 24h", c.AuthFailWindow.Duration))
	}
	if c.LogFlushInterval.Duration < 0 || c.LogFlushInterval.Duration > 10*time.Second {
		errs = append(errs, fmt.Errorf("log_flush_interval: %s is not between 0 and 10s", c.LogFlushInterval.Duration))
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "keygate.db")
	}
	if c.MasterKey == "" {
		abs, err := filepath.Abs(filepath.Join(c.DataDir, "master.key"))
		if err != nil {
			errs = append(errs, fmt.Errorf("data_dir: %w", err))
		}
		c.MasterKey = "file://" + abs
	}
	if u, err := url.Parse(c.MasterKey); err != nil || u.Scheme == "" {
		errs = append(errs, errors.New("master_key: not a URL (file:///path, env://VAR, base64key://, hashivault://, awskms://...)"))
	}
	for name, p := range c.Providers {
		if p.BaseURL == "" {
			continue
		}
		u, err := url.Parse(p.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("providers.%s.base_url: %q is not an http(s) URL", name, p.BaseURL))
		}
	}
	return errors.Join(errs...)
}

// IsPostgres reports whether DatabaseURL names a PostgreSQL server.
func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

// ParseLogLevel maps debug|info|warn|error to a slog level.
func ParseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log_level: %q is not one of debug, info, warn, error", s)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
