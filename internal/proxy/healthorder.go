package proxy

import "sync"

// healthOrder keeps live-traffic health reports about a key in the order
// the provider's answers were observed. Reports are written in the
// background, so without it a success observed just before a 401 could be
// written after it, leaving a rejected key green (or the reverse).
type healthOrder struct {
	mu     sync.Mutex
	seq    uint64
	latest map[string]uint64 // key id → sequence of its newest pending report
}

func newHealthOrder() *healthOrder { return &healthOrder{latest: map[string]uint64{}} }

// observe records a report about keyID that is about to be written and
// returns its sequence number; it supersedes any report still pending.
func (h *healthOrder) observe(keyID string) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	h.latest[keyID] = h.seq
	return h.seq
}

// agree records an answer that needs no write because the key's status
// already says it: any report still pending about keyID is older than that
// answer, so it is dropped.
func (h *healthOrder) agree(keyID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.latest, keyID)
}

// write runs report unless a newer answer about keyID was observed since
// seq. The lock is held while reporting, so a check and its write are one
// step with respect to other reports (status changes are rare).
func (h *healthOrder) write(keyID string, seq uint64, report func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.latest[keyID] != seq {
		return
	}
	delete(h.latest, keyID)
	report()
}
