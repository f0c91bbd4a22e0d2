// SPDX-License-Identifier: Apache-2.0

package keyhealth_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/keyhealth"
	"github.com/keygate/keygate/internal/keyvault"
)

// statusLog is a StatusWriter that records every write.
type statusLog struct {
	mu     sync.Mutex
	writes []keygate.KeyStatus
	errs   []string
}

func (w *statusLog) ReportStatus(_ context.Context, _ keyvault.Change, _ keygate.ProviderKey, s keygate.KeyStatus, why string) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, s)
	w.errs = append(w.errs, why)
	return true, nil
}

// fixedProber answers every check with status; during, if set, runs inside
// the check (an answer observed while the check is in flight).
type fixedProber struct {
	status keyhealth.Status
	checks int
	during func()
}

func (p *fixedProber) Check(context.Context, string, keygate.Secret) (keyhealth.Result, error) {
	p.checks++
	if p.during != nil {
		p.during()
	}
	return keyhealth.Result{Status: p.status, Error: "OpenAI rejected the key (HTTP 401)"}, nil
}

type liveClock struct{ now time.Time }

func (c *liveClock) Now() time.Time { return c.now }

// TestLive: a tenant's own key follows the provider's answers; a shared
// key turns invalid only once repeated rejections within the window are
// confirmed by a check, and a success or a passing check clears the
// suspicion. Steps: "r" a live rejection, "a" a live success, "+10m" the
// clock moves. Writes are what reached the store.
func TestLive(t *testing.T) {
	repeat := func(n int, s ...string) []string {
		var out []string
		for range n {
			out = append(out, s...)
		}
		return out
	}
	valid, invalid := keygate.KeyStatusValid, keygate.KeyStatusInvalid
	tests := []struct {
		name       string
		owner      keygate.TenantID
		check      keyhealth.Status // "": no prober
		steps      []string
		wantWrites []keygate.KeyStatus
		wantChecks int
	}{
		{"TenantKeyDirect", "tn_acme", keyhealth.Valid, []string{"r", "r", "a", "a"}, []keygate.KeyStatus{invalid, valid}, 0},
		{"SharedAlternating", keygate.PlatformScope, keyhealth.Valid, repeat(20, "r", "a"), nil, 0},
		{"SharedTwoThenSuccess", keygate.PlatformScope, keyhealth.Rejected, repeat(10, "r", "r", "a"), nil, 0},
		{"SharedRejectionsCheckPasses", keygate.PlatformScope, keyhealth.Valid, repeat(40, "r"), nil, 1},
		{"SharedQuietForAWindowAfterPassingCheck", keygate.PlatformScope, keyhealth.Valid, append(repeat(3, "r"), append([]string{"+9m"}, append(repeat(3, "r"), append([]string{"+2m"}, repeat(3, "r")...)...)...)...), nil, 2},
		{"SharedUnverifiableCheck", keygate.PlatformScope, keyhealth.Unverifiable, repeat(6, "r"), nil, 1},
		{"SharedRevoked", keygate.PlatformScope, keyhealth.Rejected, append(repeat(10, "r"), "a", "a"), []keygate.KeyStatus{invalid, valid}, 1},
		{"SharedSpreadOutsideWindow", keygate.PlatformScope, keyhealth.Rejected, []string{"r", "+6m", "r", "+6m", "r"}, nil, 0},
		{"SharedThreeWithinWindow", keygate.PlatformScope, keyhealth.Rejected, []string{"r", "+6m", "r", "+6m", "r", "+1m", "r"}, []keygate.KeyStatus{invalid}, 1},
		{"SharedNoProber", keygate.PlatformScope, "", repeat(5, "r"), []keygate.KeyStatus{invalid}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &liveClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			w := &statusLog{}
			var prober keyhealth.Prober
			fp := &fixedProber{status: tc.check}
			if tc.check != "" {
				prober = fp
			}
			l := keyhealth.NewLive(w, prober, keyhealth.LiveOptions{Clock: clock.Now})
			k := keygate.ProviderKey{ID: "pk_1", Owner: tc.owner, Provider: "openai", Version: 1, Status: valid}
			for _, step := range tc.steps {
				if d, ok := strings.CutPrefix(step, "+"); ok {
					dur, err := time.ParseDuration(d)
					if err != nil {
						t.Fatal(err)
					}
					clock.now = clock.now.Add(dur)
					continue
				}
				to, why := valid, ""
				if step == "r" {
					to, why = invalid, "OpenAI rejected the key on a live call (HTTP 401)"
				}
				if work := l.Observe(keyvault.Change{}, k, keygate.NewSecret("sk-x"), to, why); work != nil {
					work(context.Background())
				}
				// The store's change updates the cached status.
				if n := len(w.writes); n > 0 {
					k.Status = w.writes[n-1]
				}
			}
			if diff := cmp.Diff(tc.wantWrites, w.writes); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			if fp.checks != tc.wantChecks {
				t.Errorf("%d checks, want %d", fp.checks, tc.wantChecks)
			}
		})
	}
}

// TestLiveSuccessDuringCheck: a success observed while the check of a
// suspicion runs wins over the check's rejection.
func TestLiveSuccessDuringCheck(t *testing.T) {
	w := &statusLog{}
	p := &fixedProber{status: keyhealth.Rejected}
	l := keyhealth.NewLive(w, p, keyhealth.LiveOptions{})
	k := keygate.ProviderKey{ID: "pk_1", Owner: keygate.PlatformScope, Provider: "openai", Version: 1, Status: keygate.KeyStatusValid}
	p.during = func() {
		if work := l.Observe(keyvault.Change{}, k, keygate.Secret{}, keygate.KeyStatusValid, ""); work != nil {
			t.Error("a success on a valid key wrote something")
		}
	}
	var work func(context.Context)
	for range 3 {
		work = l.Observe(keyvault.Change{}, k, keygate.Secret{}, keygate.KeyStatusInvalid, "rejected")
	}
	if work == nil {
		t.Fatal("no check after three rejections")
	}
	if _, ok := l.SuspectSince(k.ID); !ok {
		t.Error("not suspect after three rejections")
	}
	work(context.Background())
	if len(w.writes) != 0 || p.checks != 1 {
		t.Errorf("writes %v after %d checks, want none after one", w.writes, p.checks)
	}
	if _, ok := l.SuspectSince(k.ID); ok {
		t.Error("still suspect after a success")
	}
}
