// SPDX-License-Identifier: Apache-2.0

//go:build !nokms

package keeper_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/keeper"
)

func TestKMSIDIgnoresQuery(t *testing.T) {
	env := envOf(map[string]string{"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": "t"})
	a := MustOpen(t, "hashivault://keygate", keeper.Options{Getenv: env})
	b := MustOpen(t, "hashivault://keygate?engine=transit", keeper.Options{Getenv: env})
	c := MustOpen(t, "hashivault://other", keeper.Options{Getenv: env})
	if a.Primary().ID() != b.Primary().ID() {
		t.Errorf("query changed the id: %s, %s", a.Primary().ID(), b.Primary().ID())
	}
	if a.Primary().ID() == c.Primary().ID() {
		t.Errorf("two keys share id %s", a.Primary().ID())
	}
}

// The Vault driver opens without a network call; the first wrap fails with
// an error (no Vault server listens here), never a panic.
func TestVaultUnreachable(t *testing.T) {
	env := envOf(map[string]string{"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": "t"})
	s := MustOpen(t, "hashivault://keygate", keeper.Options{Getenv: env})
	_, err := s.Primary().Wrap(context.Background(), testDEK())
	if err == nil {
		t.Fatal("wrap with an unreachable Vault: no error")
	}
	if !strings.Contains(err.Error(), s.Primary().ID()) {
		t.Errorf("error does not name the master key: %v", err)
	}
	if errors.Is(err, keeper.ErrDecrypt) {
		t.Errorf("a network error reads as a decryption failure: %v", err)
	}
}
