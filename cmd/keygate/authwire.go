// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/config"
	"github.com/keygate/keygate/internal/metrics"
	"github.com/keygate/keygate/internal/resolver"
)

// newThrottle returns the failed-authentication throttle of cfg (nil when
// cfg.AuthFailMax is 0: off), counting in m and writing the sampled
// auth.throttled audit event in the background.
func newThrottle(cfg config.Config, m *metrics.Auth, store keygate.Store, jobs *jobs, logger *slog.Logger) *auth.Throttle {
	if cfg.AuthFailMax == 0 {
		return nil
	}
	window := cfg.AuthFailWindow.Duration
	return auth.NewThrottle(auth.ThrottleOptions{
		Max: cfg.AuthFailMax, Window: window,
		OnFailure: m.Failure, OnRefused: m.Throttled,
		OnThrottled: func(addr, surface string, failures int, until time.Time) {
			logger.Warn("client address throttled after failed authentications", "client", addr, "surface", surface, "failures", failures, "until", until)
			detail, _ := json.Marshal(map[string]any{"client": addr, "surface": surface, "failures": failures,
				"window": window.String(), "until": until.UTC().Format(time.RFC3339)})
			sys := keygate.SystemActor()
			ev := keygate.AuditEvent{ActorID: sys.ID, ActorName: sys.Name, Action: keygate.ActionAuthThrottled, Detail: string(detail)}
			jobs.start("audit-auth-throttled", func(ctx context.Context) error {
				// Not cancelled by shutdown, which waits for it: an event of
				// the last moments before a stop is written, not dropped.
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				_, err := store.AppendAudit(ctx, ev)
				return err
			})
		},
	})
}

// adminAuth is an admin-token authenticator made of a function (auth.Guard
// over auth.Service.Authenticate).
type adminAuth func(ctx context.Context, tok keygate.Secret) (auth.Principal, error)

// Authenticate implements api.Authenticator and byokguide.Authenticator.
func (f adminAuth) Authenticate(ctx context.Context, tok keygate.Secret) (auth.Principal, error) {
	return f(ctx, tok)
}

// gatewayResolver is the resolver with its Authenticate throttled.
type gatewayResolver struct {
	*resolver.Service
	authenticate func(ctx context.Context, tok keygate.Secret) (resolver.Caller, error)
}

// Authenticate implements proxy.Resolver.
func (g gatewayResolver) Authenticate(ctx context.Context, tok keygate.Secret) (resolver.Caller, error) {
	return g.authenticate(ctx, tok)
}

// flushUses writes the tokens' last uses every interval until ctx ends,
// and once more after.
func flushUses(ctx context.Context, uses *auth.Uses, store auth.TokenToucher, interval time.Duration, logger *slog.Logger) error {
	flush := func(ctx context.Context) {
		if err := uses.Flush(ctx, store, time.Now()); err != nil {
			logger.Warn("token last use not recorded", "err", err)
		}
	}
	err := every(ctx, interval, flush)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	flush(fctx)
	return err
}
