// SPDX-License-Identifier: Apache-2.0

//go:build !nokms

package keeper

import (
	"context"
	"fmt"
	"net/url"

	"github.com/hashicorp/vault/api"
	"gocloud.dev/gcp"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/awskms"
	"gocloud.dev/secrets/azurekeyvault"
	"gocloud.dev/secrets/gcpkms"
	"gocloud.dev/secrets/hashivault"
	"gocloud.dev/secrets/localsecrets"
)

// The cloud KMS and Vault drivers, in every build but the one with the
// nokms tag (kms_nokms.go), which leaves them out of the binary.

// mux returns a URLMux with every supported driver. Clients are made per URL
// from the injected environment where keygate controls it (Vault); the AWS,
// GCP and Azure SDKs find their own credentials.
func (s *Set) mux() *secrets.URLMux {
	mux := new(secrets.URLMux)
	mux.RegisterKeeper(localsecrets.Scheme, &localsecrets.URLOpener{})
	mux.RegisterKeeper(hashivault.Scheme, openerFunc(s.openVault))
	mux.RegisterKeeper(awskms.Scheme, &awskms.URLOpener{})
	mux.RegisterKeeper(gcpkms.Scheme, openerFunc(s.openGCP))
	mux.RegisterKeeper(azurekeyvault.Scheme, &azurekeyvault.URLOpener{ClientMaker: azurekeyvault.DefaultClientMaker})
	return mux
}

// openVault opens hashivault://KEY with the Vault address and token from
// Options.Getenv (VAULT_SERVER_URL or VAULT_ADDR; VAULT_SERVER_TOKEN or
// VAULT_TOKEN), like go-cloud's default opener but without os.Getenv.
func (s *Set) openVault(ctx context.Context, u *url.URL) (*secrets.Keeper, error) {
	getenv := s.opt.Getenv
	if getenv == nil {
		return nil, fmt.Errorf("no Getenv function configured to find the Vault address")
	}
	addr := firstEnv(getenv, "VAULT_SERVER_URL", "VAULT_ADDR")
	if addr == "" {
		return nil, fmt.Errorf("%w: set VAULT_ADDR (or VAULT_SERVER_URL) to the Vault server", ErrBadKey)
	}
	client, err := hashivault.Dial(ctx, &hashivault.Config{
		Token:     firstEnv(getenv, "VAULT_SERVER_TOKEN", "VAULT_TOKEN"),
		APIConfig: api.Config{Address: addr},
	})
	if err != nil {
		return nil, fmt.Errorf("vault client for %s: %w", addr, err)
	}
	// A fresh opener per URL: go-cloud's opener writes the engine query
	// parameter into its own options.
	return (&hashivault.URLOpener{Client: client}).OpenKeeperURL(ctx, u)
}

// openGCP opens gcpkms://projects/... with Application Default Credentials.
func (s *Set) openGCP(ctx context.Context, u *url.URL) (*secrets.Keeper, error) {
	creds, err := gcp.DefaultCredentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("gcp credentials: %w", err)
	}
	client, done, err := gcpkms.Dial(ctx, creds.TokenSource)
	if err != nil {
		return nil, fmt.Errorf("gcp kms client: %w", err)
	}
	s.closers = append(s.closers, func() error { done(); return nil })
	return (&gcpkms.URLOpener{Client: client}).OpenKeeperURL(ctx, u)
}

func firstEnv(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}
