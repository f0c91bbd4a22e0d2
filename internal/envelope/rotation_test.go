// SPDX-License-Identifier: Apache-2.0

package envelope_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
)

// memRecords is a minimal stand-in for the store's provider_keys table: sealed
// values by AD, with the compare-and-swap rewrap of keygate.Store.Rewrap.
type memRecords struct {
	mu   sync.Mutex
	recs map[envelope.AD]*memRecord
}

type memRecord struct {
	plaintext string
	sealed    keygate.Sealed
}

func (m *memRecords) put(ad envelope.AD, plaintext string, s keygate.Sealed) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[ad] = &memRecord{plaintext: plaintext, sealed: s}
}

// snapshot returns a copy of every record.
func (m *memRecords) snapshot() map[envelope.AD]memRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[envelope.AD]memRecord, len(m.recs))
	for ad, r := range m.recs {
		out[ad] = *r
	}
	return out
}

// rewrap replaces the wrapped key of ad if it is still old (CAS).
func (m *memRecords) rewrap(ad envelope.AD, old keygate.Sealed, wrapped []byte, kekID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.recs[ad]
	if r.sealed.KEKID != old.KEKID || !bytes.Equal(r.sealed.WrappedDEK, old.WrappedDEK) {
		return false
	}
	r.sealed = keygate.Sealed{Ciphertext: r.sealed.Ciphertext, WrappedDEK: wrapped, KEKID: kekID}
	return true
}

// rewrapAll moves every record not under the primary to it, as the rewrap
// job does, and returns how many it moved.
func rewrapAll(t *testing.T, kr *envelope.Keyring, m *memRecords) int {
	moved := 0
	primary := kr.PrimaryID()
	for ad, r := range m.snapshot() {
		if r.sealed.KEKID == primary {
			continue
		}
		wrapped, id, err := kr.Rewrap(context.Background(), r.sealed.WrappedDEK, r.sealed.KEKID)
		if err != nil {
			t.Errorf("rewrap %s: %v", ad, err)
			continue
		}
		if m.rewrap(ad, r.sealed, wrapped, id) {
			moved++
		}
	}
	return moved
}

// TestRotationWhileServing rotates the master key three times while writers
// seal and readers open concurrently, then checks that every record still
// opens, and opens with the last master key alone once rewrapped. Run it
// with -race.
func TestRotationWhileServing(t *testing.T) {
	const (
		writers, writes = 4, 50
		readers, reads  = 4, 200
		rotations       = 3
	)
	keks := []envelope.KEK{MustTestKEK(t, "mk_0", "k0")}
	for i := 1; i <= rotations; i++ {
		keks = append(keks, MustTestKEK(t, fmt.Sprintf("mk_%d", i), fmt.Sprintf("k%d", i)))
	}
	kr := MustKeyring(t, keks[0])
	m := &memRecords{recs: make(map[envelope.AD]*memRecord)}
	for i := range 20 { // records that exist before the rotation starts
		ad := envelope.AD{Owner: "tn_pre", Provider: "openai", KeyID: fmt.Sprintf("pk_%d", i), Version: 1}
		m.put(ad, fmt.Sprintf("sk-pre-%d", i), MustSeal(t, kr, fmt.Sprintf("sk-pre-%d", i), ad))
	}

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range writes {
				ad := envelope.AD{Owner: keygate.TenantID(fmt.Sprintf("tn_%d", w)), Provider: "openai", KeyID: fmt.Sprintf("pk_%d", i), Version: 1}
				plaintext := fmt.Sprintf("sk-%d-%d", w, i)
				dk, err := kr.NewDataKey(context.Background())
				if err != nil {
					t.Errorf("NewDataKey: %v", err)
					return
				}
				s, err := dk.Seal(keygate.NewSecret(plaintext), ad)
				dk.Destroy()
				if err != nil {
					t.Errorf("Seal: %v", err)
					return
				}
				m.put(ad, plaintext, s)
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for i := 0; i < reads; {
				for ad, r := range m.snapshot() {
					got, err := kr.Open(context.Background(), r.sealed, ad)
					if err != nil {
						t.Errorf("Open %s under %s: %v", ad, r.sealed.KEKID, err)
						return
					}
					if got.Reveal() != r.plaintext {
						t.Errorf("Open %s: wrong plaintext", ad)
						return
					}
					if i++; i == reads {
						break
					}
				}
			}
		})
	}
	wg.Go(func() {
		for _, kek := range keks[1:] {
			if err := kr.SetPrimary(kek); err != nil {
				t.Errorf("SetPrimary: %v", err)
				return
			}
			rewrapAll(t, kr, m)
		}
	})
	wg.Wait()
	if t.Failed() {
		return
	}
	// Writers that picked the previous primary just before the last
	// SetPrimary left records behind; the job's next pass moves them.
	rewrapAll(t, kr, m)

	final := MustKeyring(t, keks[rotations]) // the last master key only, cold cache
	recs := m.snapshot()
	if want := 20 + writers*writes; len(recs) != want {
		t.Fatalf("%d records, want %d", len(recs), want)
	}
	for ad, r := range recs {
		if r.sealed.KEKID != keks[rotations].ID() {
			t.Errorf("%s still under %s", ad, r.sealed.KEKID)
		}
		if got := MustOpen(t, final, r.sealed, ad); got != r.plaintext {
			t.Errorf("%s: wrong plaintext after rotation", ad)
		}
	}
}
