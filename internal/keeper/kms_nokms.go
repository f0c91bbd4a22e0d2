// SPDX-License-Identifier: Apache-2.0

//go:build nokms

package keeper

import (
	"context"
	"fmt"
	"net/url"

	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"
)

// mux returns a URLMux with base64key only: this binary was built with the
// nokms tag, for operators whose master key is a file or an environment
// variable. A cloud KMS or Vault URL is refused with what to do instead.
func (s *Set) mux() *secrets.URLMux {
	mux := new(secrets.URLMux)
	mux.RegisterKeeper(localsecrets.Scheme, &localsecrets.URLOpener{})
	// The schemes whose drivers kms_cloud.go registers.
	for _, scheme := range []string{"hashivault", "awskms", "gcpkms", "azurekeyvault"} {
		mux.RegisterKeeper(scheme, openerFunc(func(context.Context, *url.URL) (*secrets.Keeper, error) {
			return nil, fmt.Errorf("%w: this keygate was built without the cloud KMS drivers (build tag nokms), so it cannot open a %s:// master key: use the default build, or a file:// or env:// master key", ErrBadKey, scheme)
		}))
	}
	return mux
}
