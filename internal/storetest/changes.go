// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

// recorder keeps the changes a store publishes.
type recorder struct {
	mu  sync.Mutex
	got []keygate.Change
}

func (r *recorder) add(c keygate.Change) {
	r.mu.Lock()
	r.got = append(r.got, c)
	r.mu.Unlock()
}

// take returns the changes recorded since the last take.
func (r *recorder) take() []keygate.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// fixture is what every write case starts from: tenant acme with a
// gateway token and an admin token, a key of acme and one of the platform,
// each with two versions, and a setting.
type fixture struct {
	acme keygate.TenantID
	key  keygate.ProviderKey // acme's openai key, version 2
}

// changeCase is how the change test treats one method of keygate.Store.
type changeCase struct {
	// read marks a method that writes nothing: it must publish nothing.
	read bool
	// call runs the method (on the fixture, for a write). A nil call is
	// a method the test does not run (Subscribe is the mechanism itself;
	// Close would end the store); it still publishes nothing.
	call func(e *env, f fixture) error
	// want is what a successful write publishes.
	want func(f fixture) []keygate.Change
	// fail runs the write so that it fails: it must publish nothing.
	fail func(e *env, f fixture) error
	// noop runs the write so that it succeeds but writes nothing: it
	// must publish nothing either.
	noop func(e *env, f fixture) error
}

// changeCases classifies every method of keygate.Store. testChanges fails
// for a method missing here, so a new write cannot go unannounced.
func changeCases() map[string]changeCase {
	tenant := func(f fixture) []keygate.Change {
		return []keygate.Change{{Kind: keygate.ChangeTenant, Owner: f.acme}}
	}
	key := func(f fixture) []keygate.Change {
		return []keygate.Change{{Kind: keygate.ChangeKey, Owner: f.acme, Provider: "openai"}}
	}
	ctx := context.Background()
	read := func(call func(e *env, f fixture) error) changeCase { return changeCase{read: true, call: call} }
	return map[string]changeCase{
		// Reads.
		"GetTenant":   read(func(e *env, f fixture) error { _, err := e.s.GetTenant(ctx, "acme"); return err }),
		"ListTenants": read(func(e *env, f fixture) error { _, err := e.s.ListTenants(ctx); return err }),
		"GetKey":      read(func(e *env, f fixture) error { _, err := e.s.GetKey(ctx, f.acme, "openai"); return err }),
		"ListKeys":    read(func(e *env, f fixture) error { _, err := e.s.ListKeys(ctx, f.acme); return err }),
		"ListAllKeys": read(func(e *env, f fixture) error { _, err := e.s.ListAllKeys(ctx); return err }),
		"ListKeyVersions": read(func(e *env, f fixture) error {
			_, err := e.s.ListKeyVersions(ctx, f.acme, "openai")
			return err
		}),
		"ListWrapped":  read(func(e *env, f fixture) error { _, err := e.s.ListWrapped(ctx, "other", 10); return err }),
		"GetSetting":   read(func(e *env, f fixture) error { _, err := e.s.GetSetting(ctx, "s1"); return err }),
		"ListSettings": read(func(e *env, f fixture) error { _, err := e.s.ListSettings(ctx, "s"); return err }),
		"AdminTokenByHash": read(func(e *env, f fixture) error {
			_, err := e.s.AdminTokenByHash(ctx, []byte("hash-at_1"))
			return err
		}),
		"ListAdminTokens":  read(func(e *env, f fixture) error { _, err := e.s.ListAdminTokens(ctx, ""); return err }),
		"CountAdminTokens": read(func(e *env, f fixture) error { _, err := e.s.CountAdminTokens(ctx); return err }),
		"GatewayTokenByHash": read(func(e *env, f fixture) error {
			_, err := e.s.GatewayTokenByHash(ctx, []byte("hash-gt_1"))
			return err
		}),
		"ListGatewayTokens": read(func(e *env, f fixture) error { _, err := e.s.ListGatewayTokens(ctx, f.acme); return err }),
		"ListAudit":         read(func(e *env, f fixture) error { _, err := e.s.ListAudit(ctx, keygate.AuditFilter{}); return err }),
		"ScanAudit":         read(func(e *env, f fixture) error { _, err := e.s.ScanAudit(ctx, 0, 10); return err }),
		"AuditHead":         read(func(e *env, f fixture) error { _, _, err := e.s.AuditHead(ctx); return err }),
		"GetPolicy":         read(func(e *env, f fixture) error { _, err := e.s.GetPolicy(ctx, f.acme); return err }),
		"GetBudget":         read(func(e *env, f fixture) error { _, err := e.s.GetBudget(ctx, f.acme); return err }),
		"GetRateLimits":     read(func(e *env, f fixture) error { _, err := e.s.GetRateLimits(ctx, f.acme); return err }),
		"QueryUsage": read(func(e *env, f fixture) error {
			_, err := e.s.QueryUsage(ctx, keygate.UsageQuery{GroupBy: []string{"tenant"}})
			return err
		}),
		"Ping":      read(func(e *env, f fixture) error { return e.s.Ping(ctx) }),
		"Subscribe": {read: true},
		"Close":     {read: true},

		// Writes.
		"CreateTenant": {
			call: func(e *env, f fixture) error {
				_, err := e.s.CreateTenant(ctx, keygate.Tenant{ID: "tn_beta", Name: "beta"}, event(keygate.ActionTenantCreated, "tn_beta"))
				return err
			},
			want: func(fixture) []keygate.Change {
				return []keygate.Change{{Kind: keygate.ChangeTenant, Owner: "tn_beta"}}
			},
			fail: func(e *env, f fixture) error {
				_, err := e.s.CreateTenant(ctx, keygate.Tenant{ID: "tn_other", Name: "acme"}, event(keygate.ActionTenantCreated, "tn_other"))
				return err
			},
		},
		"UpdateTenant": {
			call: func(e *env, f fixture) error {
				off := false
				_, err := e.s.UpdateTenant(ctx, f.acme, keygate.TenantUpdate{BYOKEnabled: &off}, event(keygate.ActionBYOKDisabled, f.acme))
				return err
			},
			want: tenant,
			fail: func(e *env, f fixture) error {
				off := false
				_, err := e.s.UpdateTenant(ctx, "tn_none", keygate.TenantUpdate{BYOKEnabled: &off}, event(keygate.ActionBYOKDisabled, "tn_none"))
				return err
			},
		},
		"DeleteTenant": {
			call: func(e *env, f fixture) error {
				return e.s.DeleteTenant(ctx, f.acme, event(keygate.ActionTenantDeleted, f.acme))
			},
			want: tenant,
			fail: func(e *env, f fixture) error {
				return e.s.DeleteTenant(ctx, "tn_none", event(keygate.ActionTenantDeleted, "tn_none"))
			},
		},
		"PutPolicy": {
			call: func(e *env, f fixture) error {
				_, err := e.s.PutPolicy(ctx, keygate.TenantPolicy{Tenant: f.acme, Default: keygate.DefaultPolicy()}, event(keygate.ActionPolicyUpdated, f.acme))
				return err
			},
			want: tenant,
			fail: func(e *env, f fixture) error {
				_, err := e.s.PutPolicy(ctx, keygate.TenantPolicy{Tenant: "tn_none", Default: keygate.DefaultPolicy()}, event(keygate.ActionPolicyUpdated, "tn_none"))
				return err
			},
		},
		"PutBudget": {
			call: func(e *env, f fixture) error {
				_, err := e.s.PutBudget(ctx, keygate.Budget{Tenant: f.acme}, event(keygate.ActionBudgetUpdated, f.acme))
				return err
			},
			want: tenant,
			fail: func(e *env, f fixture) error {
				_, err := e.s.PutBudget(ctx, keygate.Budget{Tenant: "tn_none"}, event(keygate.ActionBudgetUpdated, "tn_none"))
				return err
			},
		},
		"ListPriceImports":  read(func(e *env, f fixture) error { _, err := e.s.ListPriceImports(ctx); return err }),
		"LatestPriceImport": read(func(e *env, f fixture) error { _, err := e.s.LatestPriceImport(ctx); return ignoreNotFound(err) }),
		"ImportPrices": {
			call: func(e *env, f fixture) error {
				_, err := e.s.ImportPrices(ctx, priceImport("d1"), event(keygate.ActionPricesImported, ""))
				return err
			},
			want: func(fixture) []keygate.Change { return []keygate.Change{{Kind: keygate.ChangePrices, ID: "1"}} },
			fail: func(e *env, f fixture) error {
				_, err := e.s.ImportPrices(ctx, keygate.PriceImport{}, event(keygate.ActionPricesImported, ""))
				return err
			},
		},
		"PutRateLimits": {
			call: func(e *env, f fixture) error {
				_, err := e.s.PutRateLimits(ctx, f.acme, []keygate.RateLimit{{RPM: 10}}, event(keygate.ActionLimitsUpdated, f.acme))
				return err
			},
			want: tenant,
			fail: func(e *env, f fixture) error {
				_, err := e.s.PutRateLimits(ctx, "tn_none", []keygate.RateLimit{{RPM: 10}}, event(keygate.ActionLimitsUpdated, "tn_none"))
				return err
			},
		},
		"PutKey": {
			call: func(e *env, f fixture) error {
				_, err := e.s.PutKey(ctx, keyParams(f.acme, "openai", "sk-third"), event("", f.acme))
				return err
			},
			want: key,
			fail: func(e *env, f fixture) error {
				_, err := e.s.PutKey(ctx, keyParams("tn_none", "openai", "sk-third"), event("", "tn_none"))
				return err
			},
		},
		"DeleteKey": {
			call: func(e *env, f fixture) error {
				return e.s.DeleteKey(ctx, f.acme, "openai", event(keygate.ActionKeyCleared, f.acme))
			},
			want: key,
			fail: func(e *env, f fixture) error {
				return e.s.DeleteKey(ctx, f.acme, "anthropic", event(keygate.ActionKeyCleared, f.acme))
			},
		},
		"RollbackKey": {
			call: func(e *env, f fixture) error {
				_, err := e.s.RollbackKey(ctx, f.acme, "openai", time.Time{}, event("", f.acme))
				return err
			},
			want: key,
			fail: func(e *env, f fixture) error {
				_, err := e.s.RollbackKey(ctx, f.acme, "anthropic", time.Time{}, event("", f.acme))
				return err
			},
		},
		"SetKeyStatus": {
			call: func(e *env, f fixture) error {
				_, err := e.s.SetKeyStatus(ctx, keygate.KeyStatusUpdate{Owner: f.acme, Provider: "openai",
					KeyID: f.key.ID, Version: f.key.Version, Status: keygate.KeyStatusValid}, event("", f.acme))
				return err
			},
			want: func(f fixture) []keygate.Change {
				return []keygate.Change{{Kind: keygate.ChangeKeyStatus, Owner: f.acme, Provider: "openai",
					ID: f.key.ID, Status: keygate.KeyStatusValid}}
			},
			fail: func(e *env, f fixture) error {
				_, err := e.s.SetKeyStatus(ctx, keygate.KeyStatusUpdate{Owner: f.acme, Provider: "anthropic",
					KeyID: f.key.ID, Version: f.key.Version, Status: keygate.KeyStatusValid}, event("", f.acme))
				return err
			},
			// A late answer about an older version writes nothing, so it
			// announces nothing either.
			noop: func(e *env, f fixture) error {
				_, err := e.s.SetKeyStatus(ctx, keygate.KeyStatusUpdate{Owner: f.acme, Provider: "openai",
					KeyID: f.key.ID, Version: f.key.Version - 1, Status: keygate.KeyStatusValid}, event("", f.acme))
				return err
			},
		},
		"DestroySuperseded": {
			call: func(e *env, f fixture) error {
				_, err := e.s.DestroySuperseded(ctx, e.clock.Now())
				return err
			},
			want: func(f fixture) []keygate.Change {
				// One change per key, in owner and provider order: the
				// platform's key, then acme's ("platform" < "tn_acme").
				return []keygate.Change{
					{Kind: keygate.ChangeKey, Owner: keygate.PlatformScope, Provider: "openai"},
					{Kind: keygate.ChangeKey, Owner: f.acme, Provider: "openai"},
				}
			},
			fail: func(e *env, f fixture) error {
				_, err := e.s.DestroySuperseded(canceled(), e.clock.Now())
				return err
			},
			// Nothing superseded that long ago: nothing destroyed.
			noop: func(e *env, f fixture) error {
				_, err := e.s.DestroySuperseded(ctx, start.Add(-time.Hour))
				return err
			},
		},
		"Rewrap": {
			call: func(e *env, f fixture) error {
				sealed, err := e.s.GetSetting(ctx, "s1")
				if err != nil {
					return err
				}
				if _, err := e.s.Rewrap(ctx, keygate.WrappedRef{Kind: "key", KeyID: f.key.ID, Version: f.key.Version,
					WrappedDEK: f.key.Sealed.WrappedDEK, KEKID: f.key.Sealed.KEKID}, []byte("dek-new"), "kek2"); err != nil {
					return err
				}
				_, err = e.s.Rewrap(ctx, keygate.WrappedRef{Kind: "setting", Name: "s1",
					WrappedDEK: sealed.WrappedDEK, KEKID: sealed.KEKID}, []byte("dek-new"), "kek2")
				return err
			},
			want: func(f fixture) []keygate.Change {
				return []keygate.Change{
					{Kind: keygate.ChangeKey, Owner: f.acme, Provider: "openai"},
					{Kind: keygate.ChangeSetting, ID: "s1"},
				}
			},
			fail: func(e *env, f fixture) error {
				_, err := e.s.Rewrap(ctx, keygate.WrappedRef{Kind: "nonsense"}, []byte("dek-new"), "kek2")
				return err
			},
			// A stale compare-and-swap changes nothing.
			noop: func(e *env, f fixture) error {
				_, err := e.s.Rewrap(ctx, keygate.WrappedRef{Kind: "key", KeyID: f.key.ID, Version: f.key.Version,
					WrappedDEK: []byte("stale"), KEKID: f.key.Sealed.KEKID}, []byte("dek-new"), "kek2")
				return err
			},
		},
		"InitSetting": {
			call: func(e *env, f fixture) error {
				_, err := e.s.InitSetting(ctx, "s2", keygate.Sealed{Ciphertext: []byte("ct"), WrappedDEK: []byte("dek"), KEKID: "kek1"})
				return err
			},
			want: func(fixture) []keygate.Change { return []keygate.Change{{Kind: keygate.ChangeSetting, ID: "s2"}} },
			fail: func(e *env, f fixture) error {
				_, err := e.s.InitSetting(ctx, "", keygate.Sealed{Ciphertext: []byte("ct"), WrappedDEK: []byte("dek"), KEKID: "kek1"})
				return err
			},
			// The setting exists: nothing is stored.
			noop: func(e *env, f fixture) error {
				_, err := e.s.InitSetting(ctx, "s1", keygate.Sealed{Ciphertext: []byte("ct"), WrappedDEK: []byte("dek"), KEKID: "kek1"})
				return err
			},
		},
		"CreateGatewayToken": {
			call: func(e *env, f fixture) error {
				_, err := e.s.CreateGatewayToken(ctx, keygate.GatewayToken{ID: "gt_2", Tenant: f.acme, Hash: []byte("hash-gt_2"), Prefix: "kg_2"},
					event(keygate.ActionTokenCreated, f.acme))
				return err
			},
			want: func(f fixture) []keygate.Change {
				return []keygate.Change{{Kind: keygate.ChangeToken, Owner: f.acme, ID: "gt_2"}}
			},
			fail: func(e *env, f fixture) error {
				_, err := e.s.CreateGatewayToken(ctx, keygate.GatewayToken{ID: "gt_2", Tenant: "tn_none", Hash: []byte("hash-gt_2"), Prefix: "kg_2"},
					event(keygate.ActionTokenCreated, "tn_none"))
				return err
			},
		},
		"RevokeGatewayToken": {
			call: func(e *env, f fixture) error {
				return e.s.RevokeGatewayToken(ctx, f.acme, "gt_1", event(keygate.ActionTokenRevoked, f.acme))
			},
			want: func(f fixture) []keygate.Change {
				return []keygate.Change{{Kind: keygate.ChangeToken, Owner: f.acme, ID: "gt_1"}}
			},
			fail: func(e *env, f fixture) error {
				return e.s.RevokeGatewayToken(ctx, f.acme, "gt_none", event(keygate.ActionTokenRevoked, f.acme))
			},
		},
		"SetGatewayTokenScope": {
			call: func(e *env, f fixture) error {
				_, err := e.s.SetGatewayTokenScope(ctx, f.acme, "gt_1", keygate.TokenScope{Providers: []string{"openai"}},
					event(keygate.ActionTokenScoped, f.acme))
				return err
			},
			want: func(f fixture) []keygate.Change {
				return []keygate.Change{{Kind: keygate.ChangeToken, Owner: f.acme, ID: "gt_1"}}
			},
			fail: func(e *env, f fixture) error {
				_, err := e.s.SetGatewayTokenScope(ctx, f.acme, "gt_none", keygate.TokenScope{}, event(keygate.ActionTokenScoped, f.acme))
				return err
			},
		},
		// The last use of a token is information for people that no
		// cache holds: recording it announces nothing, so that a use does
		// not evict the token from every cache.
		"TouchTokens": {
			call: func(e *env, f fixture) error {
				return e.s.TouchTokens(ctx, []keygate.TokenUse{
					{Kind: keygate.TokenGateway, ID: "gt_1", At: e.clock.Now()},
					{Kind: keygate.TokenAdmin, ID: "at_1", At: e.clock.Now()},
				})
			},
			want: func(fixture) []keygate.Change { return nil },
			fail: func(e *env, f fixture) error {
				return e.s.TouchTokens(ctx, []keygate.TokenUse{{Kind: "other", ID: "gt_1", At: e.clock.Now()}})
			},
			noop: func(e *env, f fixture) error { return e.s.TouchTokens(ctx, nil) },
		},
		"CreateAdminToken": {
			call: func(e *env, f fixture) error {
				_, err := e.s.CreateAdminToken(ctx, keygate.AdminToken{ID: "at_2", Role: keygate.RolePlatformAdmin, Hash: []byte("hash-at_2")},
					event(keygate.ActionTokenCreated, ""))
				return err
			},
			want: func(fixture) []keygate.Change {
				return []keygate.Change{{Kind: keygate.ChangeAdminToken, ID: "at_2"}}
			},
			fail: func(e *env, f fixture) error {
				_, err := e.s.CreateAdminToken(ctx, keygate.AdminToken{ID: "at_2", Role: keygate.RoleOwner, Tenant: "tn_none", Hash: []byte("hash-at_2")},
					event(keygate.ActionTokenCreated, "tn_none"))
				return err
			},
		},
		"RevokeAdminToken": {
			call: func(e *env, f fixture) error {
				return e.s.RevokeAdminToken(ctx, "at_1", event(keygate.ActionTokenRevoked, f.acme))
			},
			want: func(f fixture) []keygate.Change {
				return []keygate.Change{{Kind: keygate.ChangeAdminToken, Owner: f.acme, ID: "at_1"}}
			},
			fail: func(e *env, f fixture) error {
				return e.s.RevokeAdminToken(ctx, "at_none", event(keygate.ActionTokenRevoked, f.acme))
			},
		},
		"AppendAudit": {
			call: func(e *env, f fixture) error {
				ev := event("test.event", f.acme)
				ev.ID = "ev_1"
				_, err := e.s.AppendAudit(ctx, ev)
				return err
			},
			want: func(f fixture) []keygate.Change {
				return []keygate.Change{{Kind: keygate.ChangeAudit, Owner: f.acme, ID: "ev_1"}}
			},
			fail: func(e *env, f fixture) error {
				_, err := e.s.AppendAudit(ctx, event("", f.acme)) // no action
				return err
			},
		},
		"InsertUsage": {
			call: func(e *env, f fixture) error {
				return e.s.InsertUsage(ctx, []keygate.UsageEvent{
					{RequestID: "req_1", Tenant: f.acme, Provider: "openai", Model: "m", Source: keygate.SourceTenant},
					{RequestID: "req_2", Tenant: f.acme, Provider: "openai", Model: "m", Source: keygate.SourceTenant},
				})
			},
			want: func(fixture) []keygate.Change { return []keygate.Change{{Kind: keygate.ChangeUsage}} },
			fail: func(e *env, f fixture) error {
				return e.s.InsertUsage(canceled(), []keygate.UsageEvent{{RequestID: "req_1", Tenant: f.acme, Provider: "openai"}})
			},
			// An empty batch writes nothing.
			noop: func(e *env, f fixture) error { return e.s.InsertUsage(ctx, nil) },
		},
	}
}

// testChanges walks the methods of keygate.Store: each write announces
// exactly its changes when it commits and nothing when it fails or writes
// nothing; reads announce nothing. Every write gets a store of its own,
// prepared the same way.
func testChanges(t *testing.T, newStore func(t *testing.T, now func() time.Time) keygate.Store) {
	cases := changeCases()
	typ := reflect.TypeFor[keygate.Store]()
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		tc, ok := cases[name]
		if !ok {
			t.Errorf("keygate.Store method %s is not classified in changeCases: say whether it writes, and what it announces", name)
			continue
		}
		delete(cases, name)
		if tc.read {
			continue // below, on one store
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, f, rec := prepareChanges(t, newStore)
			if err := tc.fail(e, f); err == nil {
				t.Errorf("%s: the failing call did not fail", name)
			}
			if got := rec.take(); len(got) != 0 {
				t.Errorf("%s failed but announced %v", name, got)
			}
			if tc.noop != nil {
				if err := tc.noop(e, f); err != nil {
					t.Errorf("%s writing nothing: %v", name, err)
				}
				if got := rec.take(); len(got) != 0 {
					t.Errorf("%s wrote nothing but announced %v", name, got)
				}
			}
			if err := tc.call(e, f); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if diff := cmp.Diff(tc.want(f), rec.take()); diff != "" {
				t.Errorf("%s announced (-want +got):\n%s", name, diff)
			}
		})
	}
	for name := range cases {
		t.Errorf("changeCases has %s, which keygate.Store does not", name)
	}
	t.Run("reads", func(t *testing.T) {
		t.Parallel()
		e, f, rec := prepareChanges(t, newStore)
		for i := range typ.NumMethod() {
			name := typ.Method(i).Name
			tc, ok := changeCases()[name]
			if !ok || !tc.read || tc.call == nil {
				continue
			}
			if err := tc.call(e, f); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if got := rec.take(); len(got) != 0 {
				t.Errorf("read %s announced %v", name, got)
			}
		}
	})
}

// prepareChanges returns a new store holding the fixture, whose changes
// from now on the recorder keeps. The fixture's superseded versions were
// superseded an hour before the clock's time.
func prepareChanges(t *testing.T, newStore func(t *testing.T, now func() time.Time) keygate.Store) (*env, fixture, *recorder) {
	clock := NewClock(start)
	e := &env{s: newStore(t, clock.Now), clock: clock, ctx: t.Context()}
	acme := MustCreateTenant(t, e.s, "acme").ID
	MustPutKey(t, e.s, acme, "openai", "sk-first")
	MustPutKey(t, e.s, keygate.PlatformScope, "openai", "sk-pfirst")
	clock.Advance(time.Second)
	f := fixture{acme: acme, key: MustPutKey(t, e.s, acme, "openai", "sk-second")}
	MustPutKey(t, e.s, keygate.PlatformScope, "openai", "sk-psecond")
	f.key.Sealed = must(e.s.GetKey(e.ctx, acme, "openai"))(t).Sealed
	MustCreateGatewayToken(t, e.s, acme, "gt_1", []byte("hash-gt_1"))
	if _, err := e.s.CreateAdminToken(e.ctx, keygate.AdminToken{ID: "at_1", Role: keygate.RoleOwner, Tenant: acme, Hash: []byte("hash-at_1")},
		event(keygate.ActionTokenCreated, acme)); err != nil {
		t.Fatalf("CreateAdminToken: %v", err)
	}
	if _, err := e.s.InitSetting(e.ctx, "s1", keygate.Sealed{Ciphertext: []byte("ct"), WrappedDEK: []byte("dek"), KEKID: "kek1"}); err != nil {
		t.Fatalf("InitSetting: %v", err)
	}
	clock.Advance(time.Hour)
	rec := &recorder{}
	unsubscribe := e.s.Subscribe(rec.add)
	t.Cleanup(unsubscribe)
	return e, f, rec
}

// canceled returns a context that has ended, so that any call with it
// fails.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// must returns a function that fails t if err is set and returns v.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
