// SPDX-License-Identifier: Apache-2.0

package keyhealth

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/keyvault"
)

// StatusWriter records a key's health status and audits its changes
// (keyvault.Service).
type StatusWriter interface {
	ReportStatus(ctx context.Context, c keyvault.Change, k keygate.ProviderKey, status keygate.KeyStatus, lastError string) (bool, error)
}

// LiveOptions are the settings of a Live.
type LiveOptions struct {
	// Rejections is how many live rejections of a shared key, within
	// Window and with no success between them, make it suspect enough to
	// be checked. Default 3.
	Rejections int
	// Window bounds how far apart those rejections may be, and is how long
	// a suspicion that a check did not confirm stays quiet (no new check
	// of that key). Default 10 minutes.
	Window time.Duration
	// Clock reads the time; default time.Now.
	Clock  keygate.Clock
	Logger *slog.Logger
}

func (o LiveOptions) withDefaults() LiveOptions {
	if o.Rejections <= 0 {
		o.Rejections = 3
	}
	if o.Window <= 0 {
		o.Window = 10 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Live turns the provider's answers to live calls into key health, and
// decides what is worth writing.
//
// A key that only its owner's calls use (a tenant's own key) follows the
// provider's answers directly: a 401/403 turns it invalid, a success valid.
//
// A shared key (the platform's) is used by every tenant's calls, and a
// tenant can make a valid key answer 401/403 by what it sends (a model the
// key is not entitled to, a provider quirk). So a live rejection of a
// shared key is only a suspicion: once Rejections of them come within
// Window with no success between them, the key is checked (the Prober,
// the same check as the key test, which sends no tenant input), and only
// a check that the provider rejects too turns the key invalid. A success,
// or a check that passes, clears the suspicion; a check that does not
// confirm it keeps the key quiet (no new check) for a Window. A success
// turns an invalid shared key valid at once: no caller can make a revoked
// key succeed.
//
// Whatever is written goes through an Order, so reports land in the order
// the answers were observed. The store writes an audit event only for a
// real change of status (keyvault.ReportStatus). Suspicions are kept in
// this process only. Live is safe for concurrent use.
type Live struct {
	w      StatusWriter
	prober Prober // nil: a suspicion is confirmed by its rejections alone
	opt    LiveOptions
	order  *Order

	mu       sync.Mutex
	suspects map[string]*suspicion // by key id
}

// suspicion is what Live knows of a shared key's recent rejections.
type suspicion struct {
	since    time.Time   // first rejection of the current run (zero: none)
	times    []time.Time // recent rejections, oldest first, none older than Window
	checking bool        // a check is running
	quiet    time.Time   // no new check before this
	// successes counts successes; a check that started before one does
	// not confirm anything.
	successes uint64
}

// NewLive returns a Live that writes through w and confirms suspicions of
// shared keys with prober (nil: Rejections alone confirm them).
func NewLive(w StatusWriter, prober Prober, opt LiveOptions) *Live {
	return &Live{w: w, prober: prober, opt: opt.withDefaults(), order: NewOrder(), suspects: map[string]*suspicion{}}
}

// Shared reports whether k is used by the calls of more than its owner:
// the platform's keys are.
func Shared(k keygate.ProviderKey) bool { return k.Owner.IsPlatform() }

// Observe takes the provider's answer to one live call made with stored
// key k (opened as key): to is KeyStatusInvalid for a rejection (401/403,
// why says so) or KeyStatusValid for a success. It returns the work to run
// in the background (a status write, or the check that confirms a
// suspicion), or nil when there is nothing to do. key is used only by
// that check.
func (l *Live) Observe(c keyvault.Change, k keygate.ProviderKey, key keygate.Secret, to keygate.KeyStatus, why string) func(context.Context) {
	if to == keygate.KeyStatusValid {
		l.success(k.ID)
	}
	if k.Status == to {
		l.order.Agree(k.ID)
		return nil
	}
	if to == keygate.KeyStatusInvalid && Shared(k) {
		return l.suspect(c, k, key, why)
	}
	return l.write(c, k, to, why)
}

// SuspectSince returns when the current run of live rejections of key id
// began, and whether there is one.
func (l *Live) SuspectSince(id string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.suspects[id]
	if s == nil || s.since.IsZero() {
		return time.Time{}, false
	}
	return s.since, true
}

// write returns the work that records status to for k, in order.
func (l *Live) write(c keyvault.Change, k keygate.ProviderKey, to keygate.KeyStatus, why string) func(context.Context) {
	seq := l.order.Observe(k.ID)
	return func(ctx context.Context) {
		l.order.Write(k.ID, seq, func() {
			if _, err := l.w.ReportStatus(ctx, c, k, to, why); err != nil {
				l.opt.Logger.Warn("record key health", "request_id", c.RequestID, "key_id", k.ID, "err", err)
			}
		})
	}
}

// success clears the suspicion of key id, and forgets the key once no
// check runs and its quiet time is over (so that keys rotated away leave
// nothing behind).
func (l *Live) success(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.suspects[id]
	if s == nil {
		return
	}
	s.since, s.times = time.Time{}, nil
	s.successes++
	if !s.checking && !l.opt.Clock().Before(s.quiet) {
		delete(l.suspects, id)
	}
}

// suspect counts a live rejection of shared key k, and returns the check
// (or, without a prober, the write) once the rejections are enough.
func (l *Live) suspect(c keyvault.Change, k keygate.ProviderKey, key keygate.Secret, why string) func(context.Context) {
	now := l.opt.Clock()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.suspects[k.ID]
	if s == nil {
		s = &suspicion{}
		l.suspects[k.ID] = s
	}
	cut := now.Add(-l.opt.Window)
	i := 0
	for i < len(s.times) && !s.times[i].After(cut) {
		i++
	}
	s.times = append(s.times[i:], now)
	if s.since.IsZero() || len(s.times) == 1 {
		s.since = now
	}
	if len(s.times) < l.opt.Rejections || s.checking || now.Before(s.quiet) {
		return nil
	}
	if l.prober == nil {
		s.since, s.times = time.Time{}, nil
		return l.write(c, k, keygate.KeyStatusInvalid, why)
	}
	s.checking = true
	successes := s.successes
	return func(ctx context.Context) {
		res, err := l.prober.Check(ctx, k.Provider, key)
		l.mu.Lock()
		s.checking = false
		confirmed := err == nil && res.Status == Rejected && s.successes == successes
		s.since, s.times = time.Time{}, nil
		if !confirmed {
			s.quiet = l.opt.Clock().Add(l.opt.Window)
		}
		var seq uint64
		if confirmed {
			seq = l.order.Observe(k.ID)
		}
		l.mu.Unlock()
		switch {
		case err != nil:
			l.opt.Logger.Warn("check suspect key", "request_id", c.RequestID, "key_id", k.ID, "err", err)
		case !confirmed:
			l.opt.Logger.Info("live rejections of a shared key not confirmed by its check", "key_id", k.ID, "provider", k.Provider, "check", string(res.Status))
		}
		if !confirmed {
			return
		}
		l.order.Write(k.ID, seq, func() {
			if _, err := l.w.ReportStatus(ctx, c, k, keygate.KeyStatusInvalid, why+"; confirmed by a key check: "+res.Error); err != nil {
				l.opt.Logger.Warn("record key health", "request_id", c.RequestID, "key_id", k.ID, "err", err)
			}
		})
	}
}
