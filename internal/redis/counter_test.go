// SPDX-License-Identifier: Apache-2.0

package redis_test

import (
	"testing"

	"github.com/keygate/keygate/internal/quota"
	"github.com/keygate/keygate/internal/quota/quotatest"
	"github.com/keygate/keygate/internal/redis"
	"github.com/keygate/keygate/internal/testkit"
)

var _ quota.Counter = (*redis.Counter)(nil)

// TestCounter runs the quota conformance suite on the real Redis server.
// Every replica view is a Counter with its own client on the test's key
// prefix, as separate keygate processes would be.
func TestCounter(t *testing.T) {
	quotatest.Run(t, func(tb testing.TB) func() quota.Counter {
		prefix := testkit.RedisPrefix(tb)
		return func() quota.Counter {
			return redis.New(testkit.RedisClient(tb), redis.Options{Prefix: prefix})
		}
	})
}
