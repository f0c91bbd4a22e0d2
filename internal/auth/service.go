package auth

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/keygate/keygate"
)

// AdminTokens is the storage the Service needs.
type AdminTokens interface {
	AdminTokenByHash(ctx context.Context, hash []byte) (keygate.AdminToken, error)
}

// Service authenticates admin tokens.
type Service struct {
	tokens AdminTokens
}

// NewService returns a Service reading tokens from store.
func NewService(store AdminTokens) *Service { return &Service{tokens: store} }

// Authenticate returns the principal of an admin token. Returns an
// unauthorized *keygate.Error for an empty, unknown or revoked token; other
// errors are storage failures.
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
	return Principal{TokenID: t.ID, Name: t.Name, Role: t.Role, Tenant: t.Tenant}, nil
}
