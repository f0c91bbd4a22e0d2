// SPDX-License-Identifier: Apache-2.0

package auth_test

import (
	"context"
	"crypto/rand"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
)

// TestAuthenticateExpiry: an admin token works until its expiry and is
// token_expired from then on, against the injected clock; a token without
// expiry never expires.
func TestAuthenticateExpiry(t *testing.T) {
	clock := &fakeClock{t: timeNow()}
	exp, eh, _ := auth.Mint(rand.Reader, auth.AdminTokenPrefix)
	forever, fh, _ := auth.Mint(rand.Reader, auth.AdminTokenPrefix)
	m := tokenMap{
		string(eh): {ID: "at_exp", Role: keygate.RoleAdmin, Tenant: "tn_a", Hash: eh, ExpiresAt: timeNow().Add(time.Hour)},
		string(fh): {ID: "at_forever", Role: keygate.RoleAdmin, Tenant: "tn_a", Hash: fh},
	}
	s := auth.NewService(m, auth.Options{Now: clock.Now})
	steps := []struct {
		name    string
		advance time.Duration
		tok     keygate.Secret
		code    string
	}{
		{"BeforeExpiry", 0, exp, ""},
		{"JustBefore", time.Hour - time.Nanosecond, exp, ""},
		{"AtExpiry", time.Nanosecond, exp, keygate.CodeTokenExpired},
		{"Later", 24 * time.Hour, exp, keygate.CodeTokenExpired},
		{"NoExpiry", 10 * 365 * 24 * time.Hour, forever, ""},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		_, err := s.Authenticate(context.Background(), st.tok)
		if got := keygate.ErrorCode(err); err != nil && got != st.code || err == nil && st.code != "" {
			t.Errorf("%s: %v, want %q", st.name, err, st.code)
		}
		if err != nil && keygate.HTTPStatus(keygate.ErrorCode(err)) != 401 {
			t.Errorf("%s: status %d, want 401", st.name, keygate.HTTPStatus(keygate.ErrorCode(err)))
		}
	}
}

type touchRecorder struct{ got [][]keygate.TokenUse }

func (r *touchRecorder) TouchTokens(_ context.Context, uses []keygate.TokenUse) error {
	sort.Slice(uses, func(i, j int) bool { return uses[i].ID < uses[j].ID })
	r.got = append(r.got, uses)
	return nil
}

// TestUsesCoarse: a token's use is recorded at most once per interval, not
// at all while the stored last use is recent, and only Flush writes.
func TestUsesCoarse(t *testing.T) {
	clock := &fakeClock{t: timeNow()}
	u := auth.NewUses(time.Hour)
	var rec touchRecorder
	t0 := clock.Now()
	for range 1000 { // a busy token: one use noted
		u.Seen(keygate.TokenGateway, "gt_busy", time.Time{}, clock.Now())
		clock.Advance(time.Second) // 1000 s, within the hour
	}
	u.Seen(keygate.TokenAdmin, "at_recent", t0.Add(-time.Minute), clock.Now()) // stored 17 min ago: nothing
	u.Seen(keygate.TokenAdmin, "at_old", t0.Add(-2*time.Hour), clock.Now())
	if n := u.Pending(); n != 2 {
		t.Fatalf("%d pending uses, want 2 (gt_busy once, at_old)", n)
	}
	if err := u.Flush(context.Background(), &rec, clock.Now()); err != nil {
		t.Fatal(err)
	}
	at1000 := t0.Add(1000 * time.Second)
	want := [][]keygate.TokenUse{{{Kind: keygate.TokenAdmin, ID: "at_old", At: at1000}, {Kind: keygate.TokenGateway, ID: "gt_busy", At: t0}}}
	if diff := cmp.Diff(want, rec.got); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	// Within the hour nothing more; after it, one more write.
	u.Seen(keygate.TokenGateway, "gt_busy", time.Time{}, clock.Now())
	_ = u.Flush(context.Background(), &rec, clock.Now())
	clock.Advance(time.Hour)
	u.Seen(keygate.TokenGateway, "gt_busy", time.Time{}, clock.Now())
	_ = u.Flush(context.Background(), &rec, clock.Now())
	if len(rec.got) != 2 || rec.got[1][0].At != clock.Now() {
		t.Errorf("writes %v: want a second write an hour later", rec.got)
	}
}
