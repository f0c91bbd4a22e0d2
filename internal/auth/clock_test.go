// SPDX-License-Identifier: Apache-2.0

package auth_test

import "time"

func timeNow() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
