package usage_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/usage"
)

func events(ids ...int) []keygate.UsageEvent {
	out := []keygate.UsageEvent{}
	for _, id := range ids {
		out = append(out, keygate.UsageEvent{RequestID: fmt.Sprint(id)})
	}
	return out
}

func TestMemory(t *testing.T) {
	tests := []struct {
		name        string
		capacity    int
		record      int
		want        []keygate.UsageEvent
		wantDropped int64
	}{
		{"Empty", 3, 0, events(), 0},
		{"NotFull", 3, 2, events(0, 1), 0},
		{"Full", 3, 3, events(0, 1, 2), 0},
		{"WrapsKeepingNewest", 3, 7, events(4, 5, 6), 4},
		{"CapacityOne", 1, 2, events(1), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := usage.NewMemory(tc.capacity)
			for i := range tc.record {
				m.Record(keygate.UsageEvent{RequestID: fmt.Sprint(i)})
			}
			if diff := cmp.Diff(tc.want, m.Events()); diff != "" {
				t.Errorf("Events (-want +got):\n%s", diff)
			}
			if got := m.Dropped(); got != tc.wantDropped {
				t.Errorf("Dropped = %d, want %d", got, tc.wantDropped)
			}
			if got := m.Len(); got != len(tc.want) {
				t.Errorf("Len = %d, want %d", got, len(tc.want))
			}
		})
	}
}

func TestMemoryDefaultCapacity(t *testing.T) {
	m := usage.NewMemory(0)
	for i := range usage.DefaultMemoryEvents + 1 {
		m.Record(keygate.UsageEvent{RequestID: fmt.Sprint(i)})
	}
	if m.Len() != usage.DefaultMemoryEvents || m.Dropped() != 1 {
		t.Errorf("Len %d, Dropped %d; want %d, 1", m.Len(), m.Dropped(), usage.DefaultMemoryEvents)
	}
}

// TestMemoryConcurrent records from many goroutines while reading (run
// with -race).
func TestMemoryConcurrent(t *testing.T) {
	m := usage.NewMemory(50)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				m.Record(keygate.UsageEvent{RequestID: fmt.Sprint(g, "-", i)})
				_ = m.Events()
			}
		})
	}
	wg.Wait()
	if m.Len() != 50 || m.Dropped() != 750 {
		t.Errorf("Len %d, Dropped %d; want 50, 750", m.Len(), m.Dropped())
	}
}
