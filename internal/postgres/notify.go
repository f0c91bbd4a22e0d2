// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/keygate/keygate"
)

var _ keygate.ChangeFeed = (*DB)(nil)

// changeChannel is the NOTIFY channel of migration 0003's triggers.
const changeChannel = "keygate_changes"

// Reconnection delays of the change feed: the first retry comes soon, since
// every change committed meanwhile reaches this replica only through the
// resync (or the caches' lifetimes); later ones back off while the database
// stays unreachable.
const (
	listenRetryFirst = 100 * time.Millisecond
	listenRetryMost  = 10 * time.Second
)

// listenerSuffix names the listening connection in pg_stat_activity, after
// the URL's application_name if it sets one, so that an operator (or a
// test) can tell it from the pooled connections.
const listenerSuffix = "keygate change feed"

// Listen delivers the changes any replica commits (keygate.ChangeFeed), as
// the triggers of migration 0003 announce them with NOTIFY. It holds one
// connection, taken out of the pool, in LISTEN; when that connection drops
// it reconnects after 100 ms, doubling the wait up to 10 s while attempts
// keep failing and starting again at 100 ms once one succeeds. It calls
// resync after every (re)connection, since notifications sent while
// disconnected are lost. It returns nil when ctx ends.
func (db *DB) Listen(ctx context.Context, f func(keygate.Change), resync func()) error {
	backoff := listenRetryFirst
	for {
		listened, err := db.listenOnce(ctx, f, resync)
		if ctx.Err() != nil {
			return nil
		}
		if listened {
			// The outage starts now: the backoff earlier outages built up
			// must not delay this reconnection.
			backoff = listenRetryFirst
		}
		db.log.Warn("change feed interrupted; reconnecting", "err", err, "in", backoff.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, listenRetryMost)
	}
}

// listenOnce connects, listens and delivers changes until the connection
// fails; listened reports whether it got as far as LISTEN (and resync).
func (db *DB) listenOnce(ctx context.Context, f func(keygate.Change), resync func()) (listened bool, err error) {
	pooled, err := db.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("acquire listen connection: %w", err)
	}
	// A LISTENing connection must not go back to the pool: take it out.
	conn := pooled.Hijack()
	defer conn.Close(context.Background())
	name := listenerSuffix
	if base := conn.Config().RuntimeParams["application_name"]; base != "" {
		name = base + " " + listenerSuffix
	}
	var schema, set string
	if err := conn.QueryRow(ctx, `SELECT current_schema(), set_config('application_name', $1, false)`, name).Scan(&schema, &set); err != nil {
		return false, fmt.Errorf("read schema and name the listen connection: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	resync()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, fmt.Errorf("wait for notification: %w", err)
		}
		if c, ok := parseChange(n.Payload, schema); ok {
			f(c)
		}
	}
}

// parseChange reads "<schema>|<kind>|<owner>|<provider or id>", keeping
// only changes made in schema.
func parseChange(payload, schema string) (keygate.Change, bool) {
	parts := strings.SplitN(payload, "|", 4)
	if len(parts) != 4 || parts[0] != schema {
		return keygate.Change{}, false
	}
	c := keygate.Change{Kind: keygate.ChangeKind(parts[1]), Owner: keygate.TenantID(parts[2])}
	switch c.Kind {
	case keygate.ChangeKey:
		c.Provider = parts[3]
	case keygate.ChangeToken, keygate.ChangePrices:
		c.ID = parts[3]
	case keygate.ChangeTenant:
	default:
		return keygate.Change{}, false
	}
	return c, true
}
