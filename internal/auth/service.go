// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/keygate/keygate"
)

// AdminTokens is the storage the Service needs.
type AdminTokens interface {
	AdminTokenByHash(ctx context.Context, hash []byte) (keygate.AdminToken, error)
}

// Options are the optional settings of a Service.
type Options struct {
	// Now reads the time tokens expire against; default time.Now.
	Now keygate.Clock
	// Uses, if set, records the last use of each token that
	// authenticates.
	Uses *Uses
}

// Service authenticates admin tokens.
type Service struct {
	tokens AdminTokens
	opt    Options
}

// NewService returns a Service reading tokens from store.
func NewService(store AdminTokens, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{tokens: store, opt: opt}
}

// Authenticate returns the principal of an admin token. Returns an
// unauthorized *keygate.Error for an empty, unknown or revoked token, and
// token_expired for a token past its expiry; other errors are storage
// failures.
func (s *Service) Authenticate(ctx context.Context, tok keygate.Secret) (Principal, error) {
	if tok.IsZero() {
		return Principal{}, keygate.Errorf(keygate.CodeUnauthorized, "An admin token is required: send Authorization: Bearer <token>.")
	}
	h := Hash(tok)
	t, err := s.tokens.AdminTokenByHash(ctx, h)
	if keygate.IsCode(err, keygate.CodeNotFound) {
		return Principal{}, keygate.Errorf(keygate.CodeUnauthorized, "The admin token is not valid.")
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up admin token: %w", err)
	}
	// The lookup was by hash; compare again in constant time so that no
	// storage-specific comparison decides.
	if subtle.ConstantTimeCompare(h, t.Hash) != 1 || !t.RevokedAt.IsZero() {
		return Principal{}, keygate.Errorf(keygate.CodeUnauthorized, "The admin token is not valid.")
	}
	now := s.opt.Now()
	if keygate.Expired(t.ExpiresAt, now) {
		return Principal{}, keygate.Errorf(keygate.CodeTokenExpired, "The admin token expired at %s; ask an admin for a new one.", t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	s.opt.Uses.Seen(keygate.TokenAdmin, t.ID, t.LastUsedAt, now)
	return Principal{TokenID: t.ID, Name: t.Name, Role: t.Role, Tenant: t.Tenant, ExpiresAt: t.ExpiresAt}, nil
}
