// SPDX-License-Identifier: Apache-2.0

// Package keyvault owns the lifecycle of provider keys: check the format,
// seal, store the new version with its audit event in one transaction, and
// answer with the hint, never the key. The store announces each change, and
// the gateway's cache (internal/resolver) drops its copy on hearing it. Open
// reads and opens a stored key for that cache.
package keyvault

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
)

// Store is the storage the vault needs.
type Store interface {
	GetTenant(ctx context.Context, ref string) (keygate.Tenant, error)
	PutKey(ctx context.Context, p keygate.PutKeyParams, ev keygate.AuditEvent) (keygate.ProviderKey, error)
	GetKey(ctx context.Context, owner keygate.TenantID, provider string) (keygate.ProviderKey, error)
	ListKeys(ctx context.Context, owner keygate.TenantID) ([]keygate.ProviderKey, error)
	DeleteKey(ctx context.Context, owner keygate.TenantID, provider string, ev keygate.AuditEvent) error
	ListWrapped(ctx context.Context, notKEKID string, limit int) ([]keygate.WrappedRef, error)
	Rewrap(ctx context.Context, ref keygate.WrappedRef, wrapped []byte, newKEKID string) (bool, error)
	GetSetting(ctx context.Context, name string) (keygate.Sealed, error)
	InitSetting(ctx context.Context, name string, s keygate.Sealed) (keygate.Sealed, error)
	AppendAudit(ctx context.Context, ev keygate.AuditEvent) (keygate.AuditEvent, error)
	SetKeyStatus(ctx context.Context, u keygate.KeyStatusUpdate, ev keygate.AuditEvent) (bool, error)
	ListKeyVersions(ctx context.Context, owner keygate.TenantID, provider string) ([]keygate.KeyVersion, error)
	RollbackKey(ctx context.Context, owner keygate.TenantID, provider string, notBefore time.Time, ev keygate.AuditEvent) (keygate.ProviderKey, error)
	DestroySuperseded(ctx context.Context, olderThan time.Time) (int, error)
	ListAllKeys(ctx context.Context) ([]keygate.ProviderKey, error)
}

// Catalog checks provider names and key formats.
type Catalog interface {
	// CheckKeyFormat returns unknown_provider or invalid_key_format.
	CheckKeyFormat(provider string, key keygate.Secret) error
}

// Options are the optional dependencies of a Service.
type Options struct {
	Logger *slog.Logger
	// Clock dates the grace period of superseded versions; default
	// time.Now.
	Clock keygate.Clock
	Rand  io.Reader
	// Grace is how long a superseded key version stays restorable by
	// Rollback before DestroyExpired erases it. Default 24h.
	Grace time.Duration
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Grace <= 0 {
		o.Grace = 24 * time.Hour
	}
	return o
}

// Service is the key vault. It is safe for concurrent use.
type Service struct {
	store   Store
	keyring *envelope.Keyring
	catalog Catalog
	opt     Options

	fpKey keygate.Secret // fingerprint HMAC key, loaded by Init
}

// settingFingerprintKey names the sealed server secret under which key
// fingerprints are computed.
const settingFingerprintKey = "fingerprint_key"

// New returns a vault. Call Init before use.
func New(store Store, keyring *envelope.Keyring, catalog Catalog, opt Options) *Service {
	opt = opt.withDefaults()
	return &Service{
		store:   store,
		keyring: keyring,
		catalog: catalog,
		opt:     opt,
	}
}

// Init loads the server-held fingerprint secret, creating it (sealed under
// the master key) on the first start. Concurrent first starts of several
// replicas agree on one secret.
func (s *Service) Init(ctx context.Context) error {
	sealed, err := s.store.GetSetting(ctx, settingFingerprintKey)
	if keygate.IsCode(err, keygate.CodeNotFound) {
		var raw [32]byte
		if _, err := io.ReadFull(s.opt.Rand, raw[:]); err != nil {
			return fmt.Errorf("generate fingerprint key: %w", err)
		}
		secret := keygate.NewSecretBytes(raw[:])
		clear(raw[:])
		dk, err := s.keyring.NewDataKey(ctx)
		if err != nil {
			return fmt.Errorf("fingerprint key: %w", err)
		}
		fresh, err := dk.Seal(secret, envelope.SettingAD(settingFingerprintKey))
		dk.Destroy()
		secret.Wipe()
		if err != nil {
			return fmt.Errorf("seal fingerprint key: %w", err)
		}
		sealed, err = s.store.InitSetting(ctx, settingFingerprintKey, fresh)
		if err != nil {
			return fmt.Errorf("store fingerprint key: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("load fingerprint key: %w", err)
	}
	key, err := s.keyring.Open(ctx, sealed, envelope.SettingAD(settingFingerprintKey))
	if err != nil {
		return fmt.Errorf("open fingerprint key: %w", err)
	}
	s.fpKey = key
	return nil
}

// Fingerprint returns the fingerprint of key under the server's secret.
func (s *Service) Fingerprint(key keygate.Secret) string { return key.Fingerprint(s.fpKey) }
