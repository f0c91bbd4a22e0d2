package usage

import (
	"sync"

	"github.com/keygate/keygate"
)

// DefaultMemoryEvents is the capacity NewMemory uses for a capacity below 1.
const DefaultMemoryEvents = 10000

// Memory is an in-memory keygate.UsageRecorder: a bounded ring that keeps
// the most recent events, for tests and single-node use until a persistent
// ledger is wired. It is safe for concurrent use; Record takes a short lock
// and never waits on anything else.
type Memory struct {
	mu      sync.Mutex
	ring    []keygate.UsageEvent // allocated up to its capacity as events come
	size    int                  // capacity
	next    int                  // where the next event goes once the ring is full
	dropped int64
}

var _ keygate.UsageRecorder = (*Memory)(nil)

// NewMemory returns a Memory that keeps the last capacity events
// (DefaultMemoryEvents if capacity < 1).
func NewMemory(capacity int) *Memory {
	if capacity < 1 {
		capacity = DefaultMemoryEvents
	}
	return &Memory{size: capacity}
}

// Record implements keygate.UsageRecorder. When the ring is full the oldest
// event is overwritten and counted in Dropped.
func (m *Memory) Record(ev keygate.UsageEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.ring) < m.size {
		m.ring = append(m.ring, ev)
		return
	}
	m.ring[m.next] = ev
	m.next = (m.next + 1) % m.size
	m.dropped++
}

// Events returns a copy of the events held, oldest first.
func (m *Memory) Events() []keygate.UsageEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]keygate.UsageEvent, 0, len(m.ring))
	out = append(out, m.ring[m.next:]...)
	return append(out, m.ring[:m.next]...)
}

// Len returns the number of events held.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.ring)
}

// Dropped returns how many events were overwritten because the ring was
// full.
func (m *Memory) Dropped() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dropped
}
