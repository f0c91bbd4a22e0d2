// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/loadtest"
)

// envDatabaseURL is where --database-url takes its default from.
const envDatabaseURL = "KEYGATE_BENCH_DATABASE_URL"

// pgSchema is a schema the harness made for one keygate on PostgreSQL.
type pgSchema struct {
	url    string // the server's URL, as given
	name   string
	server string // host:port/database, for the report (no credentials)
}

// createSchema connects to the PostgreSQL server at rawURL and makes a
// fresh, empty schema for this run. It returns a *skipError when the URL
// is not a postgres:// URL or the server does not answer.
func createSchema(ctx context.Context, rawURL string) (*pgSchema, error) {
	if !strings.HasPrefix(rawURL, "postgres://") && !strings.HasPrefix(rawURL, "postgresql://") {
		return nil, skipf("--database-url is not a postgres:// URL")
	}
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		// The error may quote the URL, password included: say only what
		// kind of thing was wrong.
		return nil, skipf("--database-url is not a PostgreSQL URL")
	}
	s := &pgSchema{url: rawURL, name: "keygate_bench_" + randomHex(6), server: fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, skipf("PostgreSQL at %s not reachable: %v", s.server, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(cctx, "CREATE SCHEMA "+pgx.Identifier{s.name}.Sanitize()); err != nil {
		return nil, skipf("create schema %s on %s: %v", s.name, s.server, err)
	}
	return s, nil
}

// storeURL is the URL keygate is given: the server's, with the schema as
// its search_path, so that its migrations and tables land in the schema.
func (s *pgSchema) storeURL() (string, error) {
	u, err := url.Parse(s.url)
	if err != nil {
		return "", fmt.Errorf("parse --database-url: not a URL")
	}
	q := u.Query()
	q.Set("search_path", s.name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// drop removes the schema and everything in it. It runs when the run
// ends, cancelled or not, so it does not take the run's context.
func (s *pgSchema) drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return fmt.Errorf("drop schema %s: connect to %s: %w", s.name, s.server, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s.name}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s on %s: %w", s.name, s.server, err)
	}
	return nil
}

// setUpPostgres starts a keygate on PostgreSQL at rawURL, in a schema of
// its own, and provisions its BYOK tenant. When rawURL is empty or the
// server cannot be used, the target says why (Skipped) and the run goes
// on. stop ends that keygate and drops its schema.
func setUpPostgres(ctx context.Context, rawURL, serverCPU, bin, tmp string, env []string, admin keygate.Secret, progress func(string, ...any)) (t loadtest.Target, note string, stop func(), err error) {
	stop = func() {}
	if rawURL == "" {
		why := "no --database-url and no " + envDatabaseURL
		progress("keygate-pg: skipped (%s)", why)
		return loadtest.Target{Name: "keygate-pg", Skipped: why}, "", stop, nil
	}
	s, err := createSchema(ctx, rawURL)
	if err != nil {
		progress("keygate-pg: skipped (%v)", err)
		return loadtest.Target{Name: "keygate-pg", Skipped: err.Error()}, "", stop, nil
	}
	dropSchema := func() {
		if err := s.drop(); err != nil {
			progress("%v", err)
		}
	}
	storeURL, err := s.storeURL()
	if err != nil {
		dropSchema()
		return loadtest.Target{}, "", stop, err
	}
	logPath := filepath.Join(tmp, "keygate-pg.log")
	// The URL goes in the environment, not argv, where ps would show its
	// password.
	kg, err := startKeygate(ctx, serverCPU, bin, filepath.Join(tmp, "data-pg"), logPath, append(env, "KEYGATE_DATABASE_URL="+storeURL))
	if err != nil {
		dropSchema()
		return loadtest.Target{}, "", stop, fmt.Errorf("keygate-pg: %w", err)
	}
	stop = func() {
		kg.stop()
		dropSchema()
	}
	p, err := provision(ctx, kg.url, admin, 0, progress)
	if err != nil {
		stop()
		return loadtest.Target{}, "", func() {}, fmt.Errorf("keygate-pg: %w", err)
	}
	progress("keygate-pg %s (pid %d, PostgreSQL %s schema %s, log %s)", kg.url, kg.pid(), s.server, s.name, logPath)
	note = fmt.Sprintf("keygate-pg: the same keygate on PostgreSQL at %s, in a schema of its own (%s, dropped after the run); the PostgreSQL server is not the harness's: it is not pinned and its CPU is not in keygate-pg's CPU s/1k", s.server, s.name)
	mallocs := loadtest.ScrapeMallocs(&http.Client{Timeout: 10 * time.Second}, kg.url+"/metrics")
	return loadtest.Target{Name: "keygate-pg", URL: kg.url + "/v1", Tokens: []string{p.byok}, PID: kg.pid(), Mallocs: mallocs}, note, stop, nil
}
