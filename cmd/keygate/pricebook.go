package main

import (
	"context"
	"log/slog"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/pricing"
)

// watchPrices keeps book in step with imports: this process's own (the
// store announces keygate.ChangePrices) and, with a change feed, other
// replicas' (and every reconnection, which may have missed one). Reloads
// run here, one at a time, never in the announcing goroutine. It returns
// when ctx ends.
func watchPrices(ctx context.Context, book *pricing.Book, store keygate.Store, feed keygate.ChangeFeed, logger *slog.Logger) error {
	kick := make(chan struct{}, 1)
	poke := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	onChange := func(c keygate.Change) {
		if c.Kind == keygate.ChangePrices {
			poke()
		}
	}
	defer store.Subscribe(onChange)()
	if feed != nil {
		go func() { _ = feed.Listen(ctx, onChange, poke) }()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
			if err := book.Reload(ctx); err != nil && ctx.Err() == nil {
				logger.Error("reload prices", "err", err)
			}
		}
	}
}
