// SPDX-License-Identifier: Apache-2.0

package quota

import (
	"strconv"
	"time"
)

// window is a budget period: a UTC day or a UTC month.
type window struct {
	monthly bool
}

// bounds returns the window that holds now: its id, which names it in
// counter keys ("d20260105", "m202601"), and its end, the start of the next
// window, which is when the budget resets.
func (w window) bounds(now time.Time, id []byte) ([]byte, time.Time) {
	y, m, d := now.UTC().Date()
	if w.monthly {
		id = append(id, 'm')
		id = appendPadded(id, y, 4)
		id = appendPadded(id, int(m), 2)
		return id, time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
	}
	id = append(id, 'd')
	id = appendPadded(id, y, 4)
	id = appendPadded(id, int(m), 2)
	id = appendPadded(id, d, 2)
	return id, time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// appendPadded appends n in decimal, zero-padded to width digits.
func appendPadded(b []byte, n, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// formatUSD renders micro-USD as dollars: "$5.00", "$0.000125".
func formatUSD(micros int64) string {
	neg := micros < 0
	if neg {
		micros = -micros
	}
	frac := strconv.FormatInt(micros%1_000_000+1_000_000, 10)[1:] // six digits
	for len(frac) > 2 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	s := "$" + strconv.FormatInt(micros/1_000_000, 10) + "." + frac
	if neg {
		s = "-" + s
	}
	return s
}
