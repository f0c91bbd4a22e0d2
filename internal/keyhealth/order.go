// SPDX-License-Identifier: Apache-2.0

package keyhealth

import "sync"

// Order keeps live-traffic health reports about a key in the order the
// provider's answers were observed. Reports are written in the background,
// so without it a success observed just before a 401 could be written
// after it, leaving a rejected key green (or the reverse). It is safe for
// concurrent use; the zero value is not: use NewOrder.
type Order struct {
	mu     sync.Mutex
	seq    uint64
	latest map[string]uint64 // key id → sequence of its newest pending report
}

// NewOrder returns an Order with no report pending.
func NewOrder() *Order { return &Order{latest: map[string]uint64{}} }

// Observe records a report about keyID that is about to be written and
// returns its sequence number; it supersedes any report still pending.
func (o *Order) Observe(keyID string) uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	o.latest[keyID] = o.seq
	return o.seq
}

// Agree records an answer that needs no write because the key's status
// already says it: any report still pending about keyID is older than that
// answer, so it is dropped.
func (o *Order) Agree(keyID string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.latest, keyID)
}

// Write runs report unless a newer answer about keyID was observed since
// seq. The lock is held while reporting, so a check and its write are one
// step with respect to other reports (status changes are rare).
func (o *Order) Write(keyID string, seq uint64, report func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.latest[keyID] != seq {
		return
	}
	delete(o.latest, keyID)
	report()
}
