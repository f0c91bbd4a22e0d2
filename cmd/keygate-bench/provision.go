// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/loadtest"
)

// Made-up provider keys the fake accepts (loadtest.KeyPrefix); never real
// ones.
const (
	tenantKey   = loadtest.KeyPrefix + "tenant-0123456789abcdef"
	platformKey = loadtest.KeyPrefix + "platform-0123456789abcdef"
)

// provisioned is what the harness created in keygate, through its API.
type provisioned struct {
	byok             string   // token of a BYOK tenant with its own key, no limits
	governedTenant   string   // token of a BYOK tenant with budget and limits
	governedPlatform string   // token of a tenant on the platform key, with budget and limits
	many             []string // one token per tenant of the many-tenants scenario
}

// provision creates, through keygate's management API: the platform key;
// a BYOK tenant with its key; two tenants under a hard budget and RPM/TPM
// limits (one on its own key, one on the platform key); and n more BYOK
// tenants, each with a key and a gateway token, with a few requests in
// flight at once.
func provision(ctx context.Context, base string, admin keygate.Secret, n int, progress func(string, ...any)) (provisioned, error) {
	var p provisioned
	c, err := client.New(base, admin, client.WithHTTPClient(&http.Client{Timeout: time.Minute}), client.WithUserAgent("keygate-bench"))
	if err != nil {
		return p, err
	}
	if _, err := c.PutKey(ctx, string(keygate.PlatformScope), "openai", keygate.NewSecret(platformKey)); err != nil {
		return p, fmt.Errorf("put platform key: %w", err)
	}
	if p.byok, err = tenant(ctx, c, "bench-byok", true); err != nil {
		return p, err
	}
	if p.governedTenant, err = tenant(ctx, c, "bench-governed-byok", true); err != nil {
		return p, err
	}
	if p.governedPlatform, err = tenant(ctx, c, "bench-governed-platform", false); err != nil {
		return p, err
	}
	for _, name := range []string{"bench-governed-byok", "bench-governed-platform"} {
		if err := govern(ctx, c, name); err != nil {
			return p, err
		}
	}
	start := time.Now()
	p.many = make([]string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			tok, err := tenant(ctx, c, fmt.Sprintf("bench-t%05d", i), true)
			if err != nil {
				errs <- err
				return
			}
			p.many[i] = tok
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return p, err
	}
	progress("provisioned %d tenants with a key and a token each in %s", n+3, time.Since(start).Round(time.Millisecond))
	return p, nil
}

// tenant creates a tenant (with its own key when byok) and returns a new
// gateway token of it.
func tenant(ctx context.Context, c *client.Client, name string, byok bool) (string, error) {
	t, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: name, BYOKEnabled: &byok})
	if err != nil {
		return "", fmt.Errorf("create tenant %s: %w", name, err)
	}
	if byok {
		if _, err := c.PutKey(ctx, string(t.ID), "openai", keygate.NewSecret(tenantKey)); err != nil {
			return "", fmt.Errorf("put key of %s: %w", name, err)
		}
	}
	tok, err := c.CreateGatewayToken(ctx, string(t.ID), "bench")
	if err != nil {
		return "", fmt.Errorf("create token of %s: %w", name, err)
	}
	return tok.Token.Reveal(), nil
}

// govern puts a hard budget and RPM/TPM limits on a tenant, all far above
// what a run uses, so every call pays the governance path and none is
// refused.
func govern(ctx context.Context, c *client.Client, name string) error {
	usd := "1000000"
	tokens := int64(1) << 50
	if _, err := c.PutBudget(ctx, name, client.Budget{DailyUSD: &usd, MonthlyUSD: &usd, DailyTokens: &tokens, Hard: true, AppliesTo: keygate.AppliesToPlatform}); err != nil {
		return fmt.Errorf("put budget of %s: %w", name, err)
	}
	if _, err := c.PutLimits(ctx, name, []client.RateLimit{{RPM: 1 << 30, TPM: 1 << 40}}); err != nil {
		return fmt.Errorf("put limits of %s: %w", name, err)
	}
	return nil
}
