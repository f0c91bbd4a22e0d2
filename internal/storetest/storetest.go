// SPDX-License-Identifier: Apache-2.0

// Package storetest is the conformance suite of keygate.Store: every backend
// runs it from its own tests, so the backends behave the same down to error
// codes, ordering and timestamps.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, now func() time.Time) keygate.Store {
//			return MustOpen(t, now) // an empty store, closed by t.Cleanup
//		})
//	}
//
// It is imported only by tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/keygate/keygate"
)

// Run runs the conformance suite against the stores newStore makes: one
// fresh store, with its own fake clock, per subtest, in parallel. newStore
// must return a new, empty store whose clock is now, fail t if it cannot,
// and close the store in t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T, now func() time.Time) keygate.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"Ping", testPing},
		{"TenantCreateGetList", testTenantCreateGetList},
		{"TenantCreateErrors", testTenantCreateErrors},
		{"TenantGetNotFound", testTenantGetNotFound},
		{"TenantUpdate", testTenantUpdate},
		{"TenantKeyAdmins", testTenantKeyAdmins},
		{"TenantDelete", testTenantDelete},
		{"KeyLifecycle", testKeyLifecycle},
		{"KeyPlatform", testKeyPlatform},
		{"KeyNotFound", testKeyNotFound},
		{"KeyPutUnknownTenant", testKeyPutUnknownTenant},
		{"KeySealFails", testKeySealFails},
		{"KeyConcurrentPut", testKeyConcurrentPut},
		{"KeyRollback", testKeyRollback},
		{"KeyRollbackWindow", testKeyRollbackWindow},
		{"KeyRollbackErrors", testKeyRollbackErrors},
		{"KeyDestroySuperseded", testKeyDestroySuperseded},
		{"KeyConcurrentRollback", testKeyConcurrentRollback},
		{"ListAllKeys", testListAllKeys},
		{"Settings", testSettings},
		{"WrappedRewrap", testWrappedRewrap},
		{"AdminTokens", testAdminTokens},
		{"AdminTokenErrors", testAdminTokenErrors},
		{"GatewayTokens", testGatewayTokens},
		{"GatewayTokenErrors", testGatewayTokenErrors},
		{"TenantDeleteGateway", testTenantDeleteGateway},
		{"TokenExpiryAndUse", testTokenExpiryAndUse},
		{"TokenScopes", testTokenScopes},
		{"UsageByToken", testUsageByToken},
		{"Policies", testPolicies},
		{"PolicyErrors", testPolicyErrors},
		{"KeyStatus", testKeyStatus},
		{"KeyStatusStale", testKeyStatusStale},
		{"KeyStatusErrors", testKeyStatusErrors},
		{"KeyStatusPlatform", testKeyStatusPlatform},
		{"KeyStatusConcurrent", testKeyStatusConcurrent},
		{"AuditAppendList", testAuditAppendList},
		{"AuditPaging", testAuditPaging},
		{"AuditHead", testAuditHead},
		{"AuditTimesRoundTrip", testAuditTimesRoundTrip},
		{"AuditFieldsRoundTrip", testAuditFieldsRoundTrip},
		{"AuditDuplicateID", testAuditDuplicateID},
		{"AuditSealed", testAuditSealed},
		{"SettingsList", testSettingsList},
		{"UsageRollups", testUsageRollups},
		{"UsageQuery", testUsageQuery},
		{"UsageByUser", testUsageByUser},
		{"UsageDayEdges", testUsageDayEdges},
		{"UsageZeroTime", testUsageZeroTime},
		{"UsageConcurrent", testUsageConcurrent},
		{"Budgets", testBudgets},
		{"BudgetErrors", testBudgetErrors},
		{"RateLimits", testRateLimits},
		{"RateLimitErrors", testRateLimitErrors},
		{"TenantDeleteGovernance", testTenantDeleteGovernance},
		{"PriceImports", testPriceImports},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // every subtest has a store of its own
			clock := NewClock(start)
			s := newStore(t, clock.Now)
			tc.fn(t, &env{s: s, clock: clock, ctx: t.Context()})
		})
	}
	t.Run("Changes", func(t *testing.T) {
		t.Parallel()
		testChanges(t, newStore)
	})
}

// start is the fake clock's first reading: not UTC and not a whole
// microsecond, so the suite sees that stores normalize both.
var start = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("UTC+2", 2*3600))

// env is what every subtest works with.
type env struct {
	s     keygate.Store
	clock *Clock
	ctx   context.Context
}

// now is what the store must record for a change made now.
func (e *env) now() time.Time { return keygate.Now(e.clock.Now) }

// Clock is a fake clock that moves only when told to. It is safe for
// concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// diffOpts treat nil and empty slices alike: stores may return either for
// "none".
var diffOpts = []cmp.Option{cmpopts.EquateEmpty()}

func testPing(t *testing.T, e *env) {
	if err := e.s.Ping(e.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// event returns an audit event by the test actor.
func event(action string, tenant keygate.TenantID) keygate.AuditEvent {
	return keygate.AuditEvent{ActorID: "at_test", ActorName: "test", Action: action, Tenant: tenant, RequestID: "req_1"}
}

// MustCreateTenant creates the tenant "tn_"+name called name, BYOK enabled,
// and fails tb on error.
func MustCreateTenant(tb testing.TB, s keygate.Store, name string) keygate.Tenant {
	tb.Helper()
	id := keygate.TenantID("tn_" + name)
	t, err := s.CreateTenant(context.Background(), keygate.Tenant{ID: id, Name: name, BYOKEnabled: true},
		event(keygate.ActionTenantCreated, id))
	if err != nil {
		tb.Fatalf("CreateTenant(%s): %v", name, err)
	}
	return t
}

// FakeSeal seals deterministically: the bytes name the key id and version
// they were sealed for, so a test can tell which call produced them.
func FakeSeal(keyID string, version int) (keygate.Sealed, error) {
	return keygate.Sealed{
		Ciphertext: fmt.Appendf(nil, "ct|%s|%d", keyID, version),
		WrappedDEK: fmt.Appendf(nil, "dek|%s|%d", keyID, version),
		KEKID:      "kek1",
	}, nil
}

// keyParams returns PutKeyParams for a key whose hint and fingerprint derive
// from secret.
func keyParams(owner keygate.TenantID, provider, secret string) keygate.PutKeyParams {
	return keygate.PutKeyParams{
		Owner:       owner,
		Provider:    provider,
		Hint:        "..." + secret[len(secret)-4:],
		Fingerprint: "fp_" + secret,
		CreatedBy:   "at_test",
		Status:      keygate.KeyStatusUnknown,
		Seal:        FakeSeal,
	}
}

// MustPutKey stores a version of owner's key for provider and fails tb on
// error.
func MustPutKey(tb testing.TB, s keygate.Store, owner keygate.TenantID, provider, secret string) keygate.ProviderKey {
	tb.Helper()
	k, err := s.PutKey(context.Background(), keyParams(owner, provider, secret), event("", owner))
	if err != nil {
		tb.Fatalf("PutKey(%s, %s): %v", owner, provider, err)
	}
	return k
}

// MustScanAll returns every audit event, oldest first, fetched in pages.
func MustScanAll(tb testing.TB, s keygate.Store) []keygate.AuditEvent {
	tb.Helper()
	var all []keygate.AuditEvent
	var after int64
	for {
		page, err := s.ScanAudit(context.Background(), after, 7)
		if err != nil {
			tb.Fatalf("ScanAudit(%d, 7): %v", after, err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
}

// MustVerifyChain checks the whole audit chain: sequence numbers 1..n, each
// row's PrevHash the previous row's Hash, each Hash recomputed from the row,
// and the recorded head the last row. It returns the events.
func MustVerifyChain(tb testing.TB, s keygate.Store) []keygate.AuditEvent {
	tb.Helper()
	all := MustScanAll(tb, s)
	prev := ""
	for i, ev := range all {
		if ev.Seq != int64(i+1) {
			tb.Fatalf("audit row %d has seq %d", i+1, ev.Seq)
		}
		if ev.PrevHash != prev {
			tb.Fatalf("audit row %d: PrevHash %q, want %q", ev.Seq, ev.PrevHash, prev)
		}
		if got := ev.ComputeHash(prev); got != ev.Hash {
			tb.Fatalf("audit row %d: stored hash %q, recomputed %q (a field did not round-trip)", ev.Seq, ev.Hash, got)
		}
		prev = ev.Hash
	}
	seq, hash, err := s.AuditHead(context.Background())
	if err != nil {
		tb.Fatalf("AuditHead: %v", err)
	}
	if seq != int64(len(all)) || hash != prev {
		tb.Fatalf("AuditHead = %d %q, want %d %q", seq, hash, len(all), prev)
	}
	return all
}

// mustHead returns the audit head's sequence number.
func mustHead(tb testing.TB, s keygate.Store) int64 {
	tb.Helper()
	seq, _, err := s.AuditHead(context.Background())
	if err != nil {
		tb.Fatalf("AuditHead: %v", err)
	}
	return seq
}

// wantCode fails tb unless err carries code.
func wantCode(tb testing.TB, what string, err error, code string) {
	tb.Helper()
	if !keygate.IsCode(err, code) {
		tb.Fatalf("%s: err = %v, want code %s", what, err, code)
	}
	if msg := keygate.ErrorMessage(err); msg == "" {
		tb.Fatalf("%s: empty message", what)
	}
}

// actions returns the actions of evs.
func actions(evs []keygate.AuditEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Action)
	}
	return out
}

// errSeal is what a failing Seal returns.
var errSeal = errors.New("master key unavailable")
