// SPDX-License-Identifier: Apache-2.0

package auth_test

import (
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
)

func BenchmarkUsesSeen(b *testing.B) {
	u := auth.NewUses(time.Hour)
	now := time.Now()
	u.Seen(keygate.TokenGateway, "gt_0123456789abcdef", time.Time{}, now)
	b.ReportAllocs()
	for b.Loop() {
		u.Seen(keygate.TokenGateway, "gt_0123456789abcdef", time.Time{}, now)
	}
}
