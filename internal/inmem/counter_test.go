// SPDX-License-Identifier: Apache-2.0

package inmem_test

import (
	"testing"

	"github.com/keygate/keygate/internal/inmem"
	"github.com/keygate/keygate/internal/quota"
	"github.com/keygate/keygate/internal/quota/quotatest"
)

var _ quota.Counter = (*inmem.Counter)(nil)

// TestCounter runs the quota conformance suite. In memory, every replica
// view is the same Counter: a single node.
func TestCounter(t *testing.T) {
	quotatest.Run(t, func(testing.TB) func() quota.Counter {
		c := inmem.NewCounter()
		return func() quota.Counter { return c }
	})
}
