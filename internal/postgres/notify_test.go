// SPDX-License-Identifier: Apache-2.0

package postgres_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/postgres"
	"github.com/keygate/keygate/internal/storetest"
	"github.com/keygate/keygate/internal/testkit"
)

// TestListenResyncsAfterReconnect: the change feed delivers changes of its
// own schema only; when its connection is killed (pg_terminate_backend, as
// a network cut or a database failover would) it reconnects, calls resync,
// and delivers again; every cut is retried after the first delay (100 ms),
// not after a backoff that earlier, healed cuts built up.
func TestListenResyncsAfterReconnect(t *testing.T) {
	url, schema := testkit.PostgresSchema(t)
	app := "kgt-" + schema[len(schema)-8:] // the schema's random suffix: unique to this test
	var logs lockedBuffer
	db := MustOpen(t, withParam(url, "application_name", app), postgres.Options{
		Schema: schema,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	_, otherSchema := testkit.PostgresSchema(t)
	other := MustOpen(t, url, postgres.Options{Schema: otherSchema})

	changes := make(chan keygate.Change, 16)
	resyncs := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- db.Listen(ctx, func(c keygate.Change) { changes <- c }, func() { resyncs <- struct{}{} })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Listen returned %v after ctx ended, want nil", err)
		}
	})
	receive(t, "first resync", resyncs)

	// Commit order is delivery order: had the other schema's change been
	// delivered, it would come first.
	storetest.MustCreateTenant(t, other, "elsewhere")
	storetest.MustCreateTenant(t, db, "acme")
	if c := receive(t, "change", changes); c != (keygate.Change{Kind: keygate.ChangeTenant, Owner: "tn_acme"}) {
		t.Fatalf("first change = %+v, want acme's tenant change (other schemas' changes are ignored)", c)
	}

	admin := mustConn(t, url, schema)
	const cuts = 3
	for i := range cuts {
		var killed []bool
		rows, err := admin.Query(context.Background(), `SELECT pg_terminate_backend(pid, 5000)
			FROM pg_stat_activity WHERE application_name = $1`, app+" keygate change feed")
		if err == nil {
			killed, err = pgx.CollectRows(rows, pgx.RowTo[bool])
		}
		if err != nil || len(killed) != 1 || !killed[0] {
			t.Fatalf("cut %d: terminated %v (%v), want the one listening connection", i, killed, err)
		}
		receive(t, fmt.Sprintf("resync after cut %d", i), resyncs)
		name := fmt.Sprintf("after%d", i)
		storetest.MustCreateTenant(t, db, name)
		if c := receive(t, "change", changes); c.Owner != keygate.TenantID("tn_"+name) {
			t.Fatalf("after cut %d: change = %+v, want tn_%s's", i, c, name)
		}
	}

	var delays []string
	sc := bufio.NewScanner(bytes.NewReader(logs.Bytes()))
	for sc.Scan() {
		var rec struct{ Msg, In string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && strings.HasPrefix(rec.Msg, "change feed interrupted") {
			delays = append(delays, rec.In)
		}
	}
	if want := strings.Repeat("100ms ", cuts); strings.Join(delays, " ")+" " != want {
		t.Errorf("reconnection delays = %v, want 100ms after each of %d cuts", delays, cuts)
	}
}

// listenFresh opens a store on a schema of its own and listens to its
// change feed until the test ends; it returns the store and the changes,
// after the feed's first resync.
func listenFresh(t *testing.T) (*postgres.DB, <-chan keygate.Change) {
	t.Helper()
	url, schema := testkit.PostgresSchema(t)
	db := MustOpen(t, url, postgres.Options{Schema: schema})
	changes := make(chan keygate.Change, 16)
	resyncs := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- db.Listen(ctx, func(c keygate.Change) { changes <- c }, func() { resyncs <- struct{}{} })
	}()
	t.Cleanup(func() { cancel(); <-done })
	receive(t, "first resync", resyncs)
	return db, changes
}

// receive returns the next value of ch, failing tb if none comes within a
// generous deadline (a hang, not a slow machine).
func receive[T any](tb testing.TB, what string, ch <-chan T) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		tb.Fatalf("no %s within 20 s", what)
		var zero T
		return zero
	}
}

// withParam adds a query parameter to a postgres:// URL.
func withParam(url, k, v string) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + k + "=" + v
}

// lockedBuffer is a bytes.Buffer that a logger and the test can share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Bytes returns a copy of what was written so far.
func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}
