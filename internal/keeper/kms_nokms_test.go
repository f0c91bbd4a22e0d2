// SPDX-License-Identifier: Apache-2.0

//go:build nokms

package keeper_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/keeper"
)

// TestNoKMSRefusesCloudURLs checks the nokms build: a cloud KMS or Vault
// master key URL is refused as a bad key, with a message that names the
// build tag and what to use instead (go test -tags nokms ./internal/keeper/).
func TestNoKMSRefusesCloudURLs(t *testing.T) {
	for _, u := range []string{"hashivault://keygate", "awskms://alias/keygate?region=eu-west-1", "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k", "azurekeyvault://v.vault.azure.net/keys/k"} {
		t.Run(strings.SplitN(u, ":", 2)[0], func(t *testing.T) {
			_, err := keeper.Open(context.Background(), u, keeper.Options{})
			if !errors.Is(err, keeper.ErrBadKey) {
				t.Fatalf("Open(%s): %v, want ErrBadKey", u, err)
			}
			if !strings.Contains(err.Error(), "nokms") || !strings.Contains(err.Error(), "file://") {
				t.Errorf("message does not say why and what instead: %v", err)
			}
		})
	}
}
