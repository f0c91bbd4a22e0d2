// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"log/slog"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/pricing"
)

// priceWatcher keeps a pricing.Book in step with imports: this process's
// own (the store announces keygate.ChangePrices) and other replicas' (heard
// on the change feed the resolver listens to, with every reconnection,
// which may have missed one). Reloads run in run, one at a time, never in
// the announcing goroutine.
type priceWatcher struct {
	kick chan struct{}
}

func newPriceWatcher() *priceWatcher { return &priceWatcher{kick: make(chan struct{}, 1)} }

// poke asks for a reload without waiting.
func (w *priceWatcher) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *priceWatcher) onChange(c keygate.Change) {
	if c.Kind == keygate.ChangePrices {
		w.poke()
	}
}

// feed returns f with w listening too: one connection serves the cache
// and the prices.
func (w *priceWatcher) feed(f keygate.ChangeFeed) keygate.ChangeFeed { return teeFeed{f, w} }

type teeFeed struct {
	keygate.ChangeFeed
	w *priceWatcher
}

func (t teeFeed) Listen(ctx context.Context, f func(keygate.Change), resync func()) error {
	return t.ChangeFeed.Listen(ctx, func(c keygate.Change) { f(c); t.w.onChange(c) }, func() { resync(); t.w.poke() })
}

// run reloads book when poked, until ctx ends.
func (w *priceWatcher) run(ctx context.Context, book *pricing.Book, store keygate.ChangeSubscriber, logger *slog.Logger) error {
	defer store.Subscribe(w.onChange)()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.kick:
			if err := book.Reload(ctx); err != nil && ctx.Err() == nil {
				logger.Error("reload prices", "err", err)
			}
		}
	}
}
