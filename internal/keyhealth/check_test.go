// SPDX-License-Identifier: Apache-2.0

package keyhealth_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/keyhealth"
	"github.com/keygate/keygate/internal/provider"
)

const (
	goodKey    = "sk-goodKeyAAAAAAAAAAAAAAAAAAAAAAAAA"
	revokedKey = "sk-revokedKeyBBBBBBBBBBBBBBBBBBBBBB"
)

func catalogAt(tb testing.TB, base map[string]string) *provider.Catalog {
	tb.Helper()
	c, err := provider.Default()
	if err != nil {
		tb.Fatal(err)
	}
	if c, err = c.WithBaseURLs(base); err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestCheck(t *testing.T) {
	fake := fakeprovider.Start(t)
	fake.Revoke(revokedKey)
	// An address nothing listens on: a closed port on loopback.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	up := keyhealth.NewChecker(catalogAt(t, fake.BaseURLs()), nil, 2*time.Second)
	down := keyhealth.NewChecker(catalogAt(t, map[string]string{"openai": dead}), nil, 2*time.Second)
	tests := []struct {
		name    string
		c       *keyhealth.Checker
		key     string
		fault   *fakeprovider.Fault
		want    keyhealth.Status
		models  bool
		errCode string
	}{
		{"Valid", up, goodKey, nil, keyhealth.Valid, true, ""},
		{"Revoked", up, revokedKey, nil, keyhealth.Rejected, false, ""},
		{"Unreachable", down, goodKey, nil, keyhealth.Unverifiable, false, ""},
		{"ServerError", up, goodKey, &fakeprovider.Fault{Status: 500}, keyhealth.Unverifiable, false, ""},
		{"RateLimited", up, goodKey, &fakeprovider.Fault{Status: 429, RetryAfter: "3"}, keyhealth.Unverifiable, false, ""},
		{"BadFormat", up, "sk-has space in it 00000000000", nil, "", false, keygate.CodeInvalidKeyFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake.Reset()
			fake.Revoke(revokedKey)
			if tc.fault != nil {
				fake.SetFault("openai", *tc.fault)
			}
			res, err := tc.c.Check(context.Background(), "openai", keygate.NewSecret(tc.key))
			if keygate.ErrorCode(err) != tc.errCode {
				t.Fatalf("err = %v, want code %q", err, tc.errCode)
			}
			if res.Status != tc.want || (len(res.Models) > 0) != tc.models {
				t.Fatalf("result %+v, want %s (models %v)", res, tc.want, tc.models)
			}
			if strings.Contains(res.Error, tc.key) {
				t.Fatal("the error carries the key")
			}
			// The provider saw this key and no other.
			for _, r := range fake.Requests() {
				if r.Key.Reveal() != tc.key {
					t.Errorf("the provider received another key")
				}
				if r.Method != http.MethodGet || r.Path != "/v1/models" {
					t.Errorf("probe %s %s", r.Method, r.Path)
				}
			}
		})
	}
}

// TestCheckScrubsEchoedKey: a provider whose model list reflects the key
// it received (in clear, base64 or URL-encoded) does not get it into the
// check's result, which the key-test APIs return.
func TestCheckScrubsEchoedKey(t *testing.T) {
	fake := fakeprovider.Start(t)
	fake.SetEcho("", fakeprovider.Echo{Body: true})
	c := keyhealth.NewChecker(catalogAt(t, fake.BaseURLs()), nil, 5*time.Second)
	for _, tc := range []struct{ provider, key string }{
		{"openai", goodKey},
		{"groq", "gsk_goodKeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			res, err := c.Check(context.Background(), tc.provider, keygate.NewSecret(tc.key))
			if err != nil || res.Status != keyhealth.Valid {
				t.Fatalf("Check = %+v, %v", res, err)
			}
			got := strings.Join(res.Models, "\n") + res.Error
			if !strings.Contains(got, "[redacted") {
				t.Fatalf("models %q: the echoed ids are missing, so the test proves nothing", res.Models)
			}
			for name, f := range fakeprovider.EchoForms(tc.key) {
				if strings.Contains(got, f) {
					t.Errorf("the result holds the key's %s form: %q", name, res.Models)
				}
			}
		})
	}
}
