// SPDX-License-Identifier: Apache-2.0

package keyhealth

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/keyvault"
)

// Vault lists, opens and updates stored keys.
type Vault interface {
	AllKeys(ctx context.Context) ([]keygate.ProviderKey, error)
	Resolve(ctx context.Context, owner keygate.TenantID, provider string) (keygate.Secret, keygate.ProviderKey, error)
	ReportStatus(ctx context.Context, c keyvault.Change, k keygate.ProviderKey, status keygate.KeyStatus, lastError string) (bool, error)
}

// Prober asks a provider whether it accepts a key (a Checker does).
type Prober interface {
	Check(ctx context.Context, provider string, key keygate.Secret) (Result, error)
}

// Options are a Monitor's settings.
type Options struct {
	// Interval between two rounds. Default 6h.
	Interval time.Duration
	// Jitter spreads rounds by up to ±Jitter×Interval, so replicas and
	// restarts do not probe providers in lockstep. Default 0.1.
	Jitter float64
	// Concurrency bounds the checks running at once. Default 4.
	Concurrency int
	// After is the clock's timer (time.After by default; tests pass a fake).
	After func(time.Duration) <-chan time.Time
	// Rand returns a number in [0, 1) for the jitter (math/rand/v2 by
	// default).
	Rand   func() float64
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = 6 * time.Hour
	}
	if o.Jitter < 0 || o.Jitter >= 1 {
		o.Jitter = 0
	} else if o.Jitter == 0 {
		o.Jitter = 0.1
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Monitor re-tests every stored provider key in the background, so a key
// that stopped working turns red even when no traffic uses it: on an
// interval with jitter, with bounded concurrency, and never more than one
// check of the same key at a time.
type Monitor struct {
	vault  Vault
	prober Prober
	opt    Options

	sem      chan struct{} // bounds checks across concurrent rounds
	mu       sync.Mutex
	inflight map[string]bool // key ids being checked
}

// NewMonitor returns a Monitor that lists and updates keys through vault
// and tests each with prober.
func NewMonitor(vault Vault, prober Prober, opt Options) *Monitor {
	opt = opt.withDefaults()
	return &Monitor{vault: vault, prober: prober, opt: opt, sem: make(chan struct{}, opt.Concurrency), inflight: map[string]bool{}}
}

// NextDelay returns the wait before the next round: Interval ± Jitter.
func (m *Monitor) NextDelay() time.Duration {
	f := 1 + m.opt.Jitter*(2*m.opt.Rand()-1)
	return time.Duration(float64(m.opt.Interval) * f)
}

// Run checks every key once per round until ctx ends. The first round
// starts after one delay, not at once, so a restart does not probe every
// key immediately.
func (m *Monitor) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.opt.After(m.NextDelay()):
		}
		if _, err := m.CheckAll(ctx); err != nil && ctx.Err() == nil {
			m.opt.Logger.Warn("key health round failed", "err", err)
		}
	}
}

// checkerActor is the audit actor of status changes found by the checker.
func checkerActor() keygate.Actor {
	return keygate.Actor{ID: "health-checker", Name: "key health checker"}
}

// CheckAll checks every stored key, at most Concurrency at once, skipping
// keys whose previous check is still running, and returns how many it
// checked.
func (m *Monitor) CheckAll(ctx context.Context) (int, error) {
	keys, err := m.vault.AllKeys(ctx)
	if err != nil {
		return 0, fmt.Errorf("list keys to check: %w", err)
	}
	sem := m.sem
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	for _, k := range keys {
		if !m.claim(k.ID) {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			m.release(k.ID)
			wg.Wait()
			return n, ctx.Err()
		}
		wg.Add(1)
		go func(k keygate.ProviderKey) {
			defer wg.Done()
			defer func() { <-sem }()
			defer m.release(k.ID)
			if m.checkOne(ctx, k) {
				mu.Lock()
				n++
				mu.Unlock()
			}
		}(k)
	}
	wg.Wait()
	return n, nil
}

func (m *Monitor) claim(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inflight[id] {
		return false
	}
	m.inflight[id] = true
	return true
}

func (m *Monitor) release(id string) {
	m.mu.Lock()
	delete(m.inflight, id)
	m.mu.Unlock()
}

// checkOne tests one key and records the outcome: valid or invalid;
// unverifiable answers change nothing (the provider could not say).
func (m *Monitor) checkOne(ctx context.Context, k keygate.ProviderKey) bool {
	key, cur, err := m.vault.Resolve(ctx, k.Owner, k.Provider)
	if err != nil {
		if !keygate.IsCode(err, keygate.CodeNotFound) {
			m.opt.Logger.Warn("open key for health check", "key_id", k.ID, "err", err)
		}
		return false
	}
	res, err := m.prober.Check(ctx, cur.Provider, key)
	if err != nil {
		m.opt.Logger.Warn("health check", "key_id", k.ID, "err", err)
		return false
	}
	var status keygate.KeyStatus
	switch res.Status {
	case Valid:
		status = keygate.KeyStatusValid
	case Rejected:
		status = keygate.KeyStatusInvalid
	default:
		return true
	}
	if _, err := m.vault.ReportStatus(ctx, keyvault.Change{Actor: checkerActor()}, cur, status, res.Error); err != nil {
		m.opt.Logger.Warn("record key health", "key_id", k.ID, "err", err)
	}
	return true
}
