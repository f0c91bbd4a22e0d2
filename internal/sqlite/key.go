package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/keygate/keygate"
)

// keyColumns selects a key's current version: provider_keys k joined with
// provider_key_versions v. keyMetaColumns are the same without the sealed
// material.
const (
	keyMetaColumns = `k.id, k.owner, k.provider, k.current_version, v.hint, v.fingerprint, k.status,
	k.last_checked_at, k.last_error, v.created_by, v.created_at, k.updated_at`
	keyColumns = keyMetaColumns + `, v.ciphertext, v.wrapped_dek, v.kek_id`
)

const keyFrom = ` FROM provider_keys k
	JOIN provider_key_versions v ON v.key_id = k.id AND v.version = k.current_version `

// PutKey stores a new version of the owner's key for p.Provider (one above
// the newest version, which after a rollback is not the current one), sealed
// by p.Seal inside the transaction, makes it current, marks the version that
// was current superseded now, and appends ev (Action
// key.set for version 1 of a key id, key.rotated after; KeyID, Version, Hint
// and Fingerprint filled in). Writers are serialized by the database's write
// lock, so versions strictly increase. Returns invalid_request without an
// owner or provider, not_found for an unknown tenant owner, and Seal's error
// (with nothing written) if sealing fails.
func (db *DB) PutKey(ctx context.Context, p keygate.PutKeyParams, ev keygate.AuditEvent) (keygate.ProviderKey, error) {
	if p.Owner == "" || p.Provider == "" {
		return keygate.ProviderKey{}, keygate.Errorf(keygate.CodeInvalidRequest, "A key needs an owner and a provider.")
	}
	if p.Seal == nil {
		return keygate.ProviderKey{}, errors.New("put key: no Seal function")
	}
	if p.Status == "" {
		p.Status = keygate.KeyStatusUnknown
	}
	var k keygate.ProviderKey
	err := db.write(ctx, fmt.Sprintf("put %s key of %s", p.Provider, p.Owner), func(tx *tx) error {
		if !p.Owner.IsPlatform() {
			ok, err := tenantExists(ctx, tx, p.Owner)
			if err != nil {
				return err
			}
			if !ok {
				return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(p.Owner)))
			}
		}
		// The new version follows the newest one, not the current one:
		// after a rollback the current version is not the newest, and
		// version numbers are never reused.
		var keyID string
		var current, newest int
		err := tx.QueryRowContext(ctx, `SELECT k.id, k.current_version,
				coalesce((SELECT max(v.version) FROM provider_key_versions v WHERE v.key_id = k.id), 0)
			FROM provider_keys k WHERE k.owner = ? AND k.provider = ?`,
			string(p.Owner), p.Provider).Scan(&keyID, &current, &newest)
		if errors.Is(err, sql.ErrNoRows) {
			if keyID, err = db.ids.newID("pk_"); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO provider_keys (id, owner, provider, current_version, status, created_at, updated_at)
				VALUES (?, ?, ?, 0, ?, ?, ?)`, keyID, string(p.Owner), p.Provider, string(p.Status), micros(tx.now), micros(tx.now))
		}
		if err != nil {
			return err
		}
		version := newest + 1
		sealed, err := p.Seal(keyID, version)
		if err != nil {
			return fmt.Errorf("seal key %s version %d: %w", keyID, version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO provider_key_versions
			(key_id, version, ciphertext, wrapped_dek, kek_id, hint, fingerprint, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			keyID, version, sealed.Ciphertext, sealed.WrappedDEK, sealed.KEKID, p.Hint, p.Fingerprint, p.CreatedBy, micros(tx.now)); err != nil {
			return fmt.Errorf("insert key %s version %d: %w", keyID, version, err)
		}
		if err := supersede(ctx, tx, keyID, current); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE provider_keys
			SET current_version = ?, status = ?, last_checked_at = NULL, last_error = '', updated_at = ? WHERE id = ?`,
			version, string(p.Status), micros(tx.now), keyID); err != nil {
			return fmt.Errorf("update key %s: %w", keyID, err)
		}
		ev.Action = keygate.ActionKeyRotated
		if version == 1 {
			ev.Action = keygate.ActionKeySet
		}
		ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint = keyID, version, p.Hint, p.Fingerprint
		if err := db.appendAudit(ctx, tx, &ev); err != nil {
			return err
		}
		k = keygate.ProviderKey{
			ID: keyID, Owner: p.Owner, Provider: p.Provider, Version: version,
			Hint: p.Hint, Fingerprint: p.Fingerprint, Status: p.Status,
			CreatedBy: p.CreatedBy, CreatedAt: tx.now, UpdatedAt: tx.now, Sealed: sealed,
		}
		return nil
	})
	if err != nil {
		return keygate.ProviderKey{}, err
	}
	return k, nil
}

// GetKey returns the current version of the owner's key for provider, with
// its sealed material. Returns not_found if there is none.
func (db *DB) GetKey(ctx context.Context, owner keygate.TenantID, provider string) (keygate.ProviderKey, error) {
	var k keygate.ProviderKey
	err := db.read(ctx, fmt.Sprintf("get %s key of %s", provider, owner), func(tx *tx) error {
		var err error
		k, err = getKey(ctx, tx, owner, provider)
		return err
	})
	return k, err
}

// ListKeys returns the current version of each of the owner's keys, ordered
// by provider.
func (db *DB) ListKeys(ctx context.Context, owner keygate.TenantID) ([]keygate.ProviderKey, error) {
	var ks []keygate.ProviderKey
	err := db.read(ctx, "list keys of "+string(owner), func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+keyColumns+keyFrom+`WHERE k.owner = ? ORDER BY k.provider`, string(owner))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, err := scanKey(rows)
			if err != nil {
				return err
			}
			ks = append(ks, k)
		}
		return rows.Err()
	})
	return ks, err
}

// DeleteKey erases every version of the owner's key for provider and appends
// ev with KeyID, Version, Hint and Fingerprint of the deleted current
// version. Returns not_found if there is none.
func (db *DB) DeleteKey(ctx context.Context, owner keygate.TenantID, provider string, ev keygate.AuditEvent) error {
	return db.write(ctx, fmt.Sprintf("delete %s key of %s", provider, owner), func(tx *tx) error {
		k, err := getKey(ctx, tx, owner, provider)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM provider_key_versions WHERE key_id = ?`, k.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM provider_keys WHERE id = ?`, k.ID); err != nil {
			return err
		}
		ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint = k.ID, k.Version, k.Hint, k.Fingerprint
		return db.appendAudit(ctx, tx, &ev)
	})
}

func getKey(ctx context.Context, tx *tx, owner keygate.TenantID, provider string) (keygate.ProviderKey, error) {
	k, err := scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+keyFrom+`WHERE k.owner = ? AND k.provider = ?`,
		string(owner), provider))
	if errors.Is(err, sql.ErrNoRows) {
		return k, noKey(owner, provider)
	}
	return k, err
}

// noKey is the not_found error of a missing key.
func noKey(owner keygate.TenantID, provider string) error {
	if owner.IsPlatform() {
		return keygate.Errorf(keygate.CodeNotFound, "No %s key is stored for the platform.", bare(provider))
	}
	return keygate.Errorf(keygate.CodeNotFound, "No %s key is stored for tenant %s.", bare(provider), bare(string(owner)))
}

func scanKey(s scanner) (keygate.ProviderKey, error) {
	var k keygate.ProviderKey
	var owner, status string
	err := s.Scan(&k.ID, &owner, &k.Provider, &k.Version, &k.Hint, &k.Fingerprint, &status,
		microTime{&k.LastCheckedAt}, &k.LastError, &k.CreatedBy, microTime{&k.CreatedAt}, microTime{&k.UpdatedAt},
		&k.Sealed.Ciphertext, &k.Sealed.WrappedDEK, &k.Sealed.KEKID)
	k.Owner, k.Status = keygate.TenantID(owner), keygate.KeyStatus(status)
	return k, err
}
