// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/config"
)

// healthcheck is `keygate healthcheck [--url URL] [--timeout D]`: one GET of
// the local server's /readyz, exit 0 on 200 and 1 otherwise. It is the
// container image's HEALTHCHECK, since the image has no shell or curl.
// Without --url it finds the server the way `keygate serve` would: the
// listen address and TLS setting of the same flags-free configuration
// (KEYGATE_* variables and KEYGATE_CONFIG's file), probed on loopback when
// the server listens on every address.
func healthcheck(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	target := fs.String("url", "", "the URL to probe (default: /readyz of the server this environment configures)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if _, err := c.parseArgs(cmd, fs, args, 0, ""); err != nil {
		return err
	}
	if *timeout <= 0 {
		return usagef("%s: --timeout must be positive", cmd.name())
	}
	u := *target
	if u == "" {
		var err error
		if u, err = readyzURL(c.getenv); err != nil {
			return usagef("%s: %v; pass --url", cmd.name(), err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return usagef("%s: --url: %v", cmd.name(), err)
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return &cliError{code: keygate.CodeUnavailable, exit: exitFailure, msg: fmt.Sprintf("%s: %v", cmd.name(), err)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return &cliError{code: keygate.CodeUnavailable, exit: exitFailure, msg: fmt.Sprintf("%s: %s answered %s", cmd.name(), u, resp.Status)}
	}
	_, err = fmt.Fprintf(c.stdout, "%s: ready\n", u)
	return err
}

// readyzURL returns the /readyz URL of the server that getenv configures
// (with no flags): http or https by its TLS setting, its listen port, and
// the loopback address when it listens on every address.
func readyzURL(getenv func(string) string) (string, error) {
	cfg, err := config.Load(nil, getenv, io.Discard)
	if err != nil {
		return "", fmt.Errorf("read the server's settings: %w", err)
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", cfg.Addr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/readyz", nil
}
