// SPDX-License-Identifier: Apache-2.0

package quotatest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/quota"
)

// Replicas and Calls are the shape of every concurrency test: Calls
// concurrent calls spread over Replicas counters (or Services) that share
// one namespace, against limits that allow exactly a third of them.
const (
	Replicas = 3
	Calls    = 300
	Allowed  = 100
)

// replicas returns n views of one namespace.
func replicas(tb testing.TB, open Opener, n int) []quota.Counter {
	mk := open(tb)
	out := make([]quota.Counter, n)
	for i := range out {
		out[i] = mk()
	}
	return out
}

// race runs fn(i) for i in [0, Calls) on Calls goroutines released at once,
// and returns how many returned true.
func race(fn func(i int) bool) int {
	var (
		start sync.WaitGroup
		done  sync.WaitGroup
		n     atomic.Int64
	)
	start.Add(1)
	for i := range Calls {
		done.Go(func() {
			start.Wait()
			if fn(i) {
				n.Add(1)
			}
		})
	}
	start.Done()
	done.Wait()
	return int(n.Load())
}

func testConcurrent(t *testing.T, open Opener) {
	tests := []struct {
		name string
		req  func(i int) keygate.QuotaRequest
	}{
		{"Budget", func(i int) keygate.QuotaRequest {
			return admit(id(i), 0, bs(budget("{tn_1}:b:x", Allowed*7, 7)))
		}},
		{"Rate", func(i int) keygate.QuotaRequest {
			return admit(id(i), 0, nil, rate("{tn_1}:r:*:tpm", Allowed*7, 7))
		}},
		{"BudgetAndRate", func(i int) keygate.QuotaRequest {
			// The rate allows 100 and the budget 150: rate refusals must
			// not leave budget behind, nor the reverse.
			return admit(id(i), 0, bs(budget("{tn_1}:b:x", 150, 1)), rate("{tn_1}:r:*:rpm", Allowed, 1))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs := replicas(t, open, Replicas)
			ctx := context.Background()
			var errs atomic.Int64
			got := race(func(i int) bool {
				res, err := cs[i%Replicas].Admit(ctx, tc.req(i))
				if err != nil {
					errs.Add(1)
					return false
				}
				return res.Admitted()
			})
			if errs.Load() != 0 {
				t.Fatalf("%d admissions failed with an error", errs.Load())
			}
			if got != Allowed {
				t.Errorf("admitted %d of %d, want exactly %d", got, Calls, Allowed)
			}
		})
	}
}
