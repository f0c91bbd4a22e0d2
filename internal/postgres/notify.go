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

// Listen delivers the changes any replica commits (keygate.ChangeFeed), as
// the triggers of migration 0003 announce them with NOTIFY. It holds one
// pooled connection in LISTEN, reconnects with a backoff when it drops, and
// calls resync after every (re)connection, since notifications sent while
// disconnected are lost. It returns nil when ctx ends.
func (db *DB) Listen(ctx context.Context, f func(keygate.Change), resync func()) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, f, resync)
		if ctx.Err() != nil {
			return nil
		}
		db.log.Warn("change feed interrupted; reconnecting", "err", err, "in", backoff.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
	return nil
}

func (db *DB) listenOnce(ctx context.Context, f func(keygate.Change), resync func()) error {
	pooled, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire listen connection: %w", err)
	}
	// A LISTENing connection must not go back to the pool: take it out.
	conn := pooled.Hijack()
	defer conn.Close(context.Background())
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	resync()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
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
	case keygate.ChangeToken:
		c.ID = parts[3]
	case keygate.ChangeTenant:
	default:
		return keygate.Change{}, false
	}
	return c, true
}
