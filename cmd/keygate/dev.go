// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/provider"
)

// defaultFakeProviderAddr is where `keygate dev fake-provider` listens by
// default: loopback only, next to keygate's own 8080.
const defaultFakeProviderAddr = "127.0.0.1:9090"

// fakeRecordLimit bounds the memory of a long-running fake. A
// fakeprovider.Fake records every request it answers (for tests to
// inspect), which nobody reads here; after this many requests the server
// moves to a fresh Fake and the old one is dropped once its in-flight
// requests finish.
const fakeRecordLimit = 10_000

// devShutdownTimeout bounds how long a stopping fake waits for in-flight
// answers before it drops their connections.
const devShutdownTimeout = 5 * time.Second

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	*l = append(*l, s)
	return nil
}

// devFake serves one fakeprovider.Fake and replaces it with a fresh one,
// configured the same, every limit requests.
type devFake struct {
	newFake func() *fakeprovider.Fake
	limit   int64
	served  atomic.Int64
	cur     atomic.Pointer[fakeprovider.Fake]
}

func newDevFake(revoke []string, delay time.Duration) *devFake {
	// Every Fake is configured before it serves anything, so no request
	// ever sees one without its revoked keys or its delay.
	configure := func(f *fakeprovider.Fake) *fakeprovider.Fake {
		f.Revoke(revoke...)
		if delay > 0 {
			f.SetFault("", fakeprovider.Fault{Delay: delay})
		}
		return f
	}
	first := configure(fakeprovider.New())
	cat := first.Catalog()
	d := &devFake{limit: fakeRecordLimit, newFake: func() *fakeprovider.Fake { return configure(fakeprovider.New(fakeprovider.WithCatalog(cat))) }}
	d.cur.Store(first)
	return d
}

func (d *devFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.served.Add(1)%d.limit == 0 {
		d.cur.Store(d.newFake())
	}
	d.cur.Load().ServeHTTP(w, r)
}

// catalog returns the catalog the fake serves.
func (d *devFake) catalog() *provider.Catalog { return d.cur.Load().Catalog() }

// close releases the current Fake's delayed and stalled answers.
func (d *devFake) close() { d.cur.Load().Close() }

// devFakeProvider is `keygate dev fake-provider`: it serves the fake of
// every catalog provider until ctx ends (SIGINT or SIGTERM), after printing
// the KEYGATE_<PROVIDER>_BASE_URL lines that point keygate at it.
func devFakeProvider(ctx context.Context, c *cli, cmd *command, args []string) error {
	// Not c.flagSet: this command talks to no keygate server, and its
	// --addr is the address it listens on.
	fs := flag.NewFlagSet("keygate "+cmd.name(), flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	addr := fs.String("addr", defaultFakeProviderAddr, "host:port to listen on (port 0 picks a free port)")
	var revoke stringList
	fs.Var(&revoke, "revoke", "a `KEY` the fake rejects with its provider's 401 (repeatable). Keys on the command line are\n"+
		"visible in ps and shell history: that is acceptable here only because these are made-up test keys;\n"+
		"never pass a real provider key")
	delay := fs.Duration("delay", 0, "wait this long before the first byte of every answer, e.g. 50ms. One request can ask for\n"+
		"a fault of its own with the header X-Fake-Fault: status=429,retry_after=7 (or delay=2s, stall_after=3, cut_after=3)")
	if _, err := c.parseArgs(cmd, fs, args, 0, ""); err != nil {
		return err
	}
	if *delay < 0 {
		return usagef("%s: --delay must not be negative", cmd.name())
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return usagef("%s: --addr %q: want host:port, e.g. %s", cmd.name(), *addr, defaultFakeProviderAddr)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
	if err != nil {
		return &cliError{code: keygate.CodeUnavailable, exit: exitFailure, msg: fmt.Sprintf("%s: %v", cmd.name(), err)}
	}
	fake := newDevFake(revoke, *delay)
	srv := &http.Server{
		Handler:           fake,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(c.stderr, "keygate: fake-provider: ", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	base := "http://" + urlHost(ln.Addr())
	// One write, so a reader sees every line at once.
	_, err = fmt.Fprint(c.stdout, fakeEnv(base, fake.catalog().Names()))
	if err == nil {
		fmt.Fprintf(c.stderr, "keygate: fake provider listening on %s (%d revoked keys, delay %s); stop it with Ctrl-C.\n"+
			"keygate: point keygate serve at it with the lines on stdout, e.g.\n"+
			"keygate:   keygate dev fake-provider > fake.env &  env $(cat fake.env) keygate serve\n", base, len(revoke), *delay)
		select {
		case <-ctx.Done():
		case err = <-errc:
			err = fmt.Errorf("%s: serve: %w", cmd.name(), err)
		}
	}
	fake.close()
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), devShutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(shutdown); serr != nil {
		_ = srv.Close()
	}
	return err
}

// fakeEnv returns the KEYGATE_<PROVIDER>_BASE_URL=<base>/<provider> lines,
// sorted, one per provider.
func fakeEnv(base string, names []string) string {
	lines := make([]string, 0, len(names))
	for _, n := range names {
		lines = append(lines, provider.EnvBaseURL(n)+"="+base+"/"+n+"\n")
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}

// urlHost returns the host:port by which this machine reaches a listener: a
// wildcard address (0.0.0.0, ::) becomes 127.0.0.1.
func urlHost(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
