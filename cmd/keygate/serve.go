// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/api"
	"github.com/keygate/keygate/internal/audit"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/byokguide"
	"github.com/keygate/keygate/internal/config"
	"github.com/keygate/keygate/internal/envelope"
	"github.com/keygate/keygate/internal/inmem"
	"github.com/keygate/keygate/internal/keeper"
	"github.com/keygate/keygate/internal/keyhealth"
	"github.com/keygate/keygate/internal/keyvault"
	"github.com/keygate/keygate/internal/ledger"
	"github.com/keygate/keygate/internal/logbuf"
	"github.com/keygate/keygate/internal/metrics"
	"github.com/keygate/keygate/internal/postgres"
	"github.com/keygate/keygate/internal/pricing"
	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/proxy"
	"github.com/keygate/keygate/internal/quota"
	"github.com/keygate/keygate/internal/redis"
	"github.com/keygate/keygate/internal/resolver"
	"github.com/keygate/keygate/internal/server"
	"github.com/keygate/keygate/internal/sqlite"
	"github.com/keygate/keygate/internal/ui"
	"github.com/keygate/keygate/internal/version"
)

// runServe is `keygate serve`: it builds every dependency from the
// configuration, serves until ctx is cancelled (SIGINT or SIGTERM), then
// drains in-flight requests and closes storage.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return usageError{fmt.Errorf("serve: %w", err)}
	}
	if !cfg.AdminToken.IsZero() {
		if err := auth.CheckAdminTokenStrength(cfg.AdminToken); err != nil {
			return usageError{fmt.Errorf("serve: %w", err)}
		}
	}
	level, _ := config.ParseLogLevel(cfg.LogLevel)
	logger, flushLogs, closeLogs := newLogger(stderr, level, cfg.LogFlushInterval.Duration)
	defer closeLogs() // first in, last out: after everything else has logged

	catalog, err := provider.Default()
	if err != nil {
		return fmt.Errorf("load provider catalog: %w", err)
	}
	if err := cfg.ApplyProviderEnv(catalog.Names(), provider.EnvBaseURL, getenv); err != nil {
		return err
	}
	overrides := map[string]string{}
	for name, p := range cfg.Providers {
		if p.BaseURL != "" {
			overrides[name] = p.BaseURL
		}
	}
	if catalog, err = catalog.WithBaseURLs(overrides); err != nil {
		return fmt.Errorf("provider base URLs: %w", err)
	}

	// Bind every address and read the TLS files before anything is
	// created: an address in use or a bad certificate fails the start at
	// once, with no data directory, master key or bootstrap token written.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return fmt.Errorf("listen on metrics address %s: %w", cfg.MetricsAddr, err)
		}
		defer metricsLn.Close()
	}
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		certs, err := server.NewCertReloader(cfg.TLSCert, cfg.TLSKey, server.CertOptions{Logger: logger})
		if err != nil {
			return err
		}
		tlsConfig = server.TLSConfig(certs)
	}

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}

	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	keys, err := keeper.Open(ctx, cfg.MasterKey, keeper.Options{Getenv: getenv, Previous: cfg.MasterKeyPrevious,
		BeforeCreate: func(path string) error { return refuseNewMasterKey(ctx, store, path) }})
	if err != nil {
		return fmt.Errorf("open master key: %w", err)
	}
	defer keys.Close()
	if keys.Kind() == keeper.KindFile {
		logger.Warn("THE MASTER KEY IS A LOCAL FILE: fine for development, not for production. "+
			"Anyone who can read this file and the database can decrypt every stored provider key. "+
			"Point --master-key (KEYGATE_MASTER_KEY) at a KMS or Vault (awskms://, gcpkms://, azurekeyvault://, hashivault://) "+
			"or at least env://VAR holding a key managed by your secret store.",
			"master_key", cfg.MasterKey, "created", keys.Created())
	}
	var older []envelope.KEK
	for _, k := range keys.Others() {
		older = append(older, k)
	}
	keyring, err := envelope.NewKeyring(keys.Primary(), older...)
	if err != nil {
		return fmt.Errorf("master keyring: %w", err)
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mtr, err := metrics.NewWithOptions(registry, metrics.Options{Providers: catalog.Names()})
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	build := version.Get()
	if err := metrics.RegisterBuildInfo(registry, metrics.Build{Version: build.Version, Commit: build.ShortCommit(), GoVersion: build.GoVersion}); err != nil {
		return err
	}
	vault := keyvault.New(store, keyring, catalog, keyvault.Options{Logger: logger, Grace: cfg.KeyGrace.Duration})
	if err := vault.Init(ctx); err != nil {
		return fmt.Errorf("initialize key vault: %w", err)
	}
	auditKeys := audit.NewKeys(store, keyring, nil)
	if err := auditKeys.Init(ctx, store.SealAuditWith); err != nil {
		return fmt.Errorf("initialize audit keys: %w", err)
	}
	if err := bootstrapAdmin(ctx, store, cfg.AdminToken, cfg.DataDir, logger); err != nil {
		return err
	}

	jobs := newJobs(ctx, logger)
	defer jobs.stop() // also when the start fails below: nothing waits on a job left running
	if n, err := vault.PendingRewrap(ctx); err == nil && n > 0 {
		logger.Info("re-wrapping data keys under the primary master key", "pending", n)
		jobs.start("rewrap", func(ctx context.Context) error { _, err := vault.Rewrap(ctx); return err })
	}

	tp, stopTracing, err := metrics.NewTracer(ctx, metrics.TraceConfig{Endpoint: cfg.OTLPEndpoint, ServiceName: "keygate", SampleRatio: cfg.TraceSampleRatio, Logger: logger})
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stopTracing(sctx)
	}()
	tracer := tp.Tracer(metrics.TracerName)

	// Tokens' last uses are noted in memory on the requests' path and
	// written once a minute; failed authentications are throttled per
	// client address (authwire.go).
	uses := auth.NewUses(keygate.TokenUseInterval)
	jobs.start("token-uses", func(ctx context.Context) error { return flushUses(ctx, uses, store, time.Minute, logger) })
	authMetrics, err := metrics.NewAuth(registry, auth.SurfaceAPI, auth.SurfaceGateway)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	throttle := newThrottle(cfg, authMetrics, store, jobs, logger)
	admins := adminAuth(auth.Guard(throttle, auth.SurfaceAPI, auth.NewService(store, auth.Options{Uses: uses}).Authenticate))
	// The gateway's one cache: it hears every change this process commits
	// from the store itself, and other replicas' changes from the change
	// feed below.
	res := resolver.New(store, vault, resolver.Options{
		TTL: cfg.CacheTTL.Duration, CacheObserver: mtr.CacheObserver, Feed: mtr, Uses: uses,
	})
	defer res.Close()
	// The price table in effect: built in, overlaid by the newest import,
	// overlaid by prices_file; reloaded when an import lands.
	prices, err := pricing.NewBook(ctx, store, cfg.PricesFile, nil)
	if err != nil {
		return fmt.Errorf("price table: %w", err)
	}
	priceWatch := newPriceWatcher()
	jobs.start("prices", func(ctx context.Context) error { return priceWatch.run(ctx, prices, store, logger) })
	recorder := ledger.New(store, ledger.Options{
		Ping:   store.Ping,
		Logger: logger,
	})
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := recorder.Close(dctx); err != nil {
			logger.Warn("usage ledger did not drain", "err", err)
		}
	}()
	if err := mtr.RegisterQueue(func() float64 { return float64(recorder.QueueDepth()) },
		func() float64 { return float64(recorder.Dropped()) }, func() float64 { return float64(recorder.Failed()) }); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	var counter quota.Counter = inmem.NewCounter()
	if cfg.RedisURL != "" {
		rc, err := redis.Open(ctx, cfg.RedisURL, redis.Options{})
		if err != nil {
			return fmt.Errorf("open redis: %w", err)
		}
		defer rc.Close()
		counter = rc
	}
	quotas := quota.New(counter, quota.Options{FailOpen: cfg.QuotaFailOpen, Logger: logger})
	// One key check for the API's key test, the monitor, and the
	// confirmation of live rejections of platform keys.
	checker := keyhealth.NewChecker(catalog, nil, 10*time.Second)
	gateway := proxy.New(proxy.Deps{
		Catalog:      catalog,
		Resolver:     gatewayResolver{res, auth.Guard(throttle, auth.SurfaceGateway, res.Authenticate)},
		Health:       vault,
		Check:        checker,
		Usage:        recorder,
		Logger:       logger,
		MaxBodyBytes: cfg.MaxRequestBytes,
		Background: func(f func(context.Context)) {
			jobs.start("key-health", func(ctx context.Context) error { f(ctx); return nil })
		},
		Observer: mtr,
		Quota:    quotas,
		Pricing:  prices,
		Unpriced: cfg.UnpricedModels,
		StartSpan: func(ctx context.Context, name string) (context.Context, func(keygate.UsageEvent)) {
			ctx, span := metrics.StartCallSpan(ctx, tracer, name)
			return ctx, func(ev keygate.UsageEvent) { metrics.EndCallSpan(span, ev) }
		},
	})

	// Replicas sharing a database hear each other's changes and drop their
	// cached copies at once (PostgreSQL LISTEN/NOTIFY); the cache's TTL
	// remains the safety net.
	if feed, ok := store.(keygate.ChangeFeed); ok {
		jobs.start("change-feed", func(ctx context.Context) error { return res.Listen(ctx, priceWatch.feed(feed)) })
	}
	if cfg.HealthInterval.Duration > 0 {
		hc := keyhealth.NewMonitor(vault, checker, keyhealth.Options{Interval: cfg.HealthInterval.Duration, Logger: logger})
		jobs.start("key-health-checker", hc.Run)
	}
	jobs.start("destroy-superseded-keys", func(ctx context.Context) error {
		return every(ctx, time.Hour, func(ctx context.Context) {
			if n, err := vault.DestroyExpired(ctx); err != nil {
				logger.Warn("destroy superseded key versions", "err", err)
			} else if n > 0 {
				logger.Info("destroyed superseded key versions", "count", n)
			}
		})
	})

	// Another replica's master-key rotation makes a new audit key: pick it
	// up within a minute, so that no event is sealed for long by a key an
	// old master key could open.
	jobs.start("audit-keys", func(ctx context.Context) error {
		return every(ctx, time.Minute, func(ctx context.Context) {
			if err := auditKeys.Load(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("reload audit keys", "err", err)
			}
		})
	})
	checkpoint := func(ctx context.Context) {}
	if cfg.AuditCheckpointFile != "" {
		// One writer at a time, each reading the head when it holds the
		// lock: otherwise the periodic write, slow in its fsync, could
		// rename an older head over the one written at shutdown.
		var mu sync.Mutex
		checkpoint = func(ctx context.Context) {
			mu.Lock()
			defer mu.Unlock()
			if err := writeCheckpoint(ctx, cfg.AuditCheckpointFile, auditKeys, store); err != nil {
				logger.Error("write audit checkpoint", "file", cfg.AuditCheckpointFile, "err", err)
			}
		}
		jobs.start("audit-checkpoint", func(ctx context.Context) error {
			return every(ctx, cfg.AuditCheckpointInterval.Duration, checkpoint)
		})
	}

	a := api.New(api.Deps{
		Store:         store,
		Vault:         vault,
		Auth:          admins,
		Providers:     catalog,
		Lifecycle:     lifecycle{checker, vault},
		MasterKeys:    masterKeys{keys},
		MasterKeyKind: keys.Kind(),
		Build:         api.BuildInfo{Version: build.Version, Commit: build.Commit, Date: build.Date, GoVersion: build.GoVersion},
		AuditKeys:     auditKeys,
		Prices:        prices,
		Ready:         store.Ping,
		BYOKDefault:   cfg.BYOKDefault,
		MaxBodyBytes:  cfg.MaxBodyBytes,
		Logger:        logger,
		Background:    jobs.start,
	})
	guide := byokguide.New(byokguide.Deps{
		Store: store, Vault: vault, Checker: checker, Auth: admins, Providers: catalog,
		MaxBodyBytes: cfg.MaxBodyBytes, Logger: logger,
	})
	// With a metrics address, /metrics is served there only.
	mainMetrics := mtr.Handler(registry)
	if metricsLn != nil {
		mainMetrics = nil
	}
	handler := server.New(server.Deps{
		API: a, BYOKGuide: guide, Gateway: gateway, GatewayPrefixes: gateway.Prefixes(),
		Metrics: mainMetrics, MetricsToken: cfg.MetricsToken.Secret, ObserveAPI: mtr.ObserveAPI, Scrub: catalog.RedactModel, RedactPath: catalog.RedactPath,
		Ready: store.Ping, Logger: logger, UI: ui.Handler(),
		BodyReadTimeout: cfg.BodyReadTimeout.Duration,
	})

	ln = server.Listen(ln, cfg.MaxConnections, mtr.ObserveConnection)
	// No ReadTimeout or WriteTimeout: they would cut streamed answers. The
	// body has its own deadline (server.Deps.BodyReadTimeout), headers
	// and idle keep-alive connections theirs.
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       cfg.IdleTimeout.Duration,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		TLSConfig:         tlsConfig,
	}
	servers := []*http.Server{srv}
	if metricsLn != nil {
		servers = append(servers, &http.Server{
			Handler:           server.NewMetrics(server.MetricsDeps{Metrics: mtr.Handler(registry), Token: cfg.MetricsToken.Secret}),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       cfg.IdleTimeout.Duration,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
			TLSConfig:         tlsConfig.Clone(), // each server sets up HTTP/2 in its own
		})
	}
	storage := "sqlite"
	if cfg.IsPostgres() {
		storage = "postgres"
	}
	listening := []any{"addr", ln.Addr().String(), "tls", tlsConfig != nil, "storage", storage, "master_key_kind", keys.Kind(), "primary_master_key", keyring.PrimaryID()}
	if metricsLn != nil {
		listening = append(listening, "metrics_addr", metricsLn.Addr().String())
	}
	logger.Info("listening", listening...)
	flushLogs() // whoever watches the log for the start should not wait

	errc := make(chan error, len(servers))
	for i, l := range []net.Listener{ln, metricsLn}[:len(servers)] {
		go func() {
			if tlsConfig != nil {
				errc <- servers[i].ServeTLS(l, "", "") // the certificate comes from TLSConfig
				return
			}
			errc <- servers[i].Serve(l)
		}()
	}
	var serveErr error
	select {
	case err := <-errc:
		serveErr = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		logger.Info("shutting down: draining in-flight requests", "timeout", cfg.ShutdownTimeout.Duration.String())
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout.Duration)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil && serveErr == nil {
			serveErr = fmt.Errorf("shutdown: %w", err)
		}
	}
	if serveErr != nil {
		return serveErr
	}
	checkpoint(sctx) // the head after the last request
	logger.Info("stopped")
	return nil
}

// newLogger returns the server's JSON logger on w. With a flush interval,
// lines gather in memory and are written together (one write for many
// access-log lines), warnings and errors at once. flush writes out what is
// held now; done does so for the last time and must run when the server
// is done logging.
func newLogger(w io.Writer, level slog.Level, flushEvery time.Duration) (logger *slog.Logger, flush, done func()) {
	opts := &slog.HandlerOptions{Level: level}
	if flushEvery <= 0 {
		return slog.New(slog.NewJSONHandler(w, opts)), func() {}, func() {}
	}
	buf := logbuf.New(w, 0)
	ctx, stop := context.WithCancel(context.Background())
	ended := make(chan struct{})
	go func() { buf.Run(ctx, flushEvery); close(ended) }()
	h := logbuf.FlushAbove(slog.NewJSONHandler(buf, opts), buf, slog.LevelWarn)
	return slog.New(h), func() { _ = buf.Flush() }, func() { stop(); <-ended }
}

// lifecycle joins the key checker and the vault for the API.
type lifecycle struct {
	*keyhealth.Checker
	*keyvault.Service
}

// every runs f at once and then every d until ctx ends.
func every(ctx context.Context, d time.Duration, f func(context.Context)) error {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		f(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// masterKeys adapts the keeper's set to the vault's MasterKeys.
type masterKeys struct{ set *keeper.Set }

func (m masterKeys) Rotate(ctx context.Context) (envelope.KEK, error) { return m.set.Rotate(ctx) }
func (m masterKeys) Retire(ctx context.Context, id string) error      { return m.set.Retire(ctx, id) }

// serverStore is what serve needs of a storage backend.
type serverStore interface {
	keygate.Store
	SealAuditWith(keygate.AuditSealer)
}

func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (serverStore, error) {
	if cfg.IsPostgres() {
		db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, cfg.DatabaseURL, sqlite.Options{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.DatabaseURL, err)
	}
	return db, nil
}

// bootstrapAdmin makes sure a platform-admin token exists. On the very first
// start it creates one — the KEYGATE_ADMIN_TOKEN value if set, else a new
// random token written to the 0600 file bootstrapTokenFile in dataDir, whose
// path is logged — and stores only its hash. The token is never written
// among the log lines. A KEYGATE_ADMIN_TOKEN that is not stored yet is added
// on later starts too, so an operator can recover access through the
// environment.
func bootstrapAdmin(ctx context.Context, store keygate.Store, preset keygate.Secret, dataDir string, logger *slog.Logger) error {
	n, err := store.CountAdminTokens(ctx)
	if err != nil {
		return fmt.Errorf("count admin tokens: %w", err)
	}
	tok := preset
	if !tok.IsZero() {
		if _, err := store.AdminTokenByHash(ctx, auth.Hash(tok)); err == nil {
			return nil
		} else if !keygate.IsCode(err, keygate.CodeNotFound) {
			return fmt.Errorf("look up KEYGATE_ADMIN_TOKEN: %w", err)
		}
	} else if n > 0 {
		return nil
	}
	generated := tok.IsZero()
	var hash []byte
	if generated {
		if tok, hash, err = auth.Mint(rand.Reader, auth.AdminTokenPrefix); err != nil {
			return err
		}
	} else {
		hash = auth.Hash(tok)
	}
	id, err := auth.NewID(rand.Reader, "at_")
	if err != nil {
		return err
	}
	// The file first: a token that is stored but was never shown would
	// lock the operator out.
	var file string
	if generated {
		if file, err = writeBootstrapToken(dataDir, tok); err != nil {
			return err
		}
	}
	sys := keygate.SystemActor()
	ev := keygate.AuditEvent{ActorID: sys.ID, ActorName: sys.Name, Action: keygate.ActionTokenCreated,
		Detail: fmt.Sprintf(`{"kind":"admin","token_id":%q,"name":"bootstrap","role":"platform_admin"}`, id)}
	if _, err := store.CreateAdminToken(ctx, keygate.AdminToken{
		ID: id, Name: "bootstrap", Role: keygate.RolePlatformAdmin, Hash: hash, CreatedBy: sys.ID,
	}, ev); err != nil {
		if file != "" {
			_ = os.Remove(file)
		}
		return fmt.Errorf("create bootstrap admin token: %w", err)
	}
	if generated {
		logger.Warn("created the first platform-admin token; it is in token_file, readable by this user only: "+
			"store it in your secret manager (export KEYGATE_TOKEN=$(cat token_file)) and delete the file. Only its hash is stored.",
			"token_id", id, "token_file", file)
		return nil
	}
	logger.Info("created bootstrap platform-admin token", "token_id", id, "from_env", true)
	return nil
}

// bootstrapTokenFile is the name, in the data directory, of the file that
// holds the generated first platform-admin token.
const bootstrapTokenFile = "bootstrap-admin-token"

// writeBootstrapToken writes tok and a newline to bootstrapTokenFile in dir,
// readable by its owner only, replacing any older file atomically, and
// returns the file's path.
func writeBootstrapToken(dir string, tok keygate.Secret) (string, error) {
	path := filepath.Join(dir, bootstrapTokenFile)
	f, err := os.CreateTemp(dir, bootstrapTokenFile+".*")
	if err != nil {
		return "", fmt.Errorf("write bootstrap admin token: %w", err)
	}
	tmp := f.Name()
	// CreateTemp makes the file 0600; Chmod says so whatever the umask.
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(append(tok.RevealBytes(), '\n'))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("write bootstrap admin token to %s: %w", path, err)
	}
	return path, nil
}
