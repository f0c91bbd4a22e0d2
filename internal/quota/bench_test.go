// SPDX-License-Identifier: Apache-2.0

package quota_test

import (
	"context"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/inmem"
	"github.com/keygate/keygate/internal/quota"
	"github.com/keygate/keygate/internal/redis"
	"github.com/keygate/keygate/internal/testkit"
)

// benchCall meets every kind of counter: a hard budget with all four
// limits, and RPM and TPM for its provider and for every provider, with
// limits that a benchmark never reaches.
func benchCall() quota.Call {
	const big = 1_000_000_000
	return quota.Call{Tenant: "tn_bench", Provider: "openai", Source: keygate.SourcePlatform,
		Budget: keygate.Budget{Hard: true, DailyUSDMicros: ptr(big * big), MonthlyUSDMicros: ptr(big * big),
			DailyTokens: ptr(big * big), MonthlyTokens: ptr(big * big)},
		Limits:         []keygate.RateLimit{{Provider: "openai", RPM: big, TPM: big}, {RPM: big, TPM: big}},
		EstimateTokens: 1000, EstimateMicros: 5000}
}

// BenchmarkAdmitSettle measures the hot-path overhead of governance: one
// Admit and one Settle of a call that meets four budget limits and four
// rate counters (settling with fewer tokens than estimated, so TPM is
// corrected), on each backend. The Redis figure is dominated by the two
// round trips to a local server.
func BenchmarkAdmitSettle(b *testing.B) {
	backends := []struct {
		name string
		new  func(b *testing.B) quota.Counter
	}{
		{"inmem", func(*testing.B) quota.Counter { return inmem.NewCounter() }},
		{"redis", func(b *testing.B) quota.Counter {
			return redis.New(testkit.RedisClient(b), redis.Options{Prefix: testkit.RedisPrefix(b)})
		}},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := MustNew(b, be.new(b), quota.Options{})
			call, ctx := benchCall(), context.Background()
			b.ReportAllocs()
			for b.Loop() {
				tk, err := s.Admit(ctx, call)
				if err != nil {
					b.Fatal(err)
				}
				if err := tk.Settle(ctx, 800, 4000); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(be.name+"-parallel", func(b *testing.B) {
			s := MustNew(b, be.new(b), quota.Options{})
			call, ctx := benchCall(), context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					tk, err := s.Admit(ctx, call)
					if err != nil {
						b.Error(err)
						return
					}
					if err := tk.Settle(ctx, 800, 4000); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkAdmitSettleToken is BenchmarkAdmitSettle for a call of a
// scoped gateway token whose own budget (all four limits) and RPM and TPM
// are counted beside the tenant's: twelve counters in one admission.
func BenchmarkAdmitSettleToken(b *testing.B) {
	const big = 1_000_000_000
	s := MustNew(b, inmem.NewCounter(), quota.Options{})
	call, ctx := benchCall(), context.Background()
	call.Token = "gt_bench"
	call.TokenScope = &keygate.TokenScope{DailyUSDMicros: ptr(big * big), MonthlyUSDMicros: ptr(big * big),
		DailyTokens: ptr(big * big), MonthlyTokens: ptr(big * big), RPM: big, TPM: big}
	b.ReportAllocs()
	for b.Loop() {
		tk, err := s.Admit(ctx, call)
		if err != nil {
			b.Fatal(err)
		}
		if err := tk.Settle(ctx, 800, 4000); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdmitUncovered measures a call that no limit covers (a BYOK call
// under platform-only limits): no counter is asked.
func BenchmarkAdmitUncovered(b *testing.B) {
	s := MustNew(b, inmem.NewCounter(), quota.Options{})
	call, ctx := benchCall(), context.Background()
	call.Source = keygate.SourceTenant
	b.ReportAllocs()
	for b.Loop() {
		tk, err := s.Admit(ctx, call)
		if err != nil {
			b.Fatal(err)
		}
		if err := tk.Settle(ctx, 800, 4000); err != nil {
			b.Fatal(err)
		}
	}
}
