package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
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
// and Fingerprint filled in). Concurrent calls for one owner and provider
// serialize on the provider_keys row lock, so versions strictly increase.
// Returns invalid_request without an owner or provider, not_found for an
// unknown tenant owner, and Seal's error (with nothing written) if sealing
// fails.
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
			// FOR SHARE: a concurrent DeleteTenant (FOR UPDATE) waits for
			// this key to be written, then deletes it too.
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR SHARE`, string(p.Owner)).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
				return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(p.Owner)))
			}
			if err != nil {
				return fmt.Errorf("lock tenant: %w", err)
			}
		}
		keyID, current, err := db.lockKeyRow(ctx, tx, p)
		if err != nil {
			return err
		}
		// The new version follows the newest one, not the current one:
		// after a rollback the current version is not the newest, and
		// version numbers are never reused. The key row lock makes the
		// maximum stable until commit.
		var newest int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM provider_key_versions WHERE key_id = $1`,
			keyID).Scan(&newest); err != nil {
			return fmt.Errorf("read newest version of key %s: %w", keyID, err)
		}
		version := newest + 1
		sealed, err := p.Seal(keyID, version)
		if err != nil {
			return fmt.Errorf("seal key %s version %d: %w", keyID, version, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO provider_key_versions
			(key_id, version, ciphertext, wrapped_dek, kek_id, hint, fingerprint, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			keyID, version, sealed.Ciphertext, sealed.WrappedDEK, sealed.KEKID, p.Hint, p.Fingerprint, p.CreatedBy, tx.now); err != nil {
			return fmt.Errorf("insert key %s version %d: %w", keyID, version, err)
		}
		if err := supersede(ctx, tx, keyID, current); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE provider_keys
			SET current_version = $1, status = $2, last_checked_at = NULL, last_error = '', updated_at = $3 WHERE id = $4`,
			version, string(p.Status), tx.now, keyID); err != nil {
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

// lockKeyRow makes sure the provider_keys row of p's owner and provider
// exists and locks it, returning its id and current version (0 for a row
// just created). The INSERT ... ON CONFLICT DO NOTHING waits for a
// concurrent creator to commit; the row can still vanish (a concurrent
// DeleteKey) before the SELECT ... FOR UPDATE, hence the retry.
func (db *DB) lockKeyRow(ctx context.Context, tx *tx, p keygate.PutKeyParams) (keyID string, current int, err error) {
	for range 3 {
		newID, idErr := db.ids.newID("pk_")
		if idErr != nil {
			return "", 0, idErr
		}
		if _, err := tx.Exec(ctx, `INSERT INTO provider_keys (id, owner, provider, current_version, status, created_at, updated_at)
			VALUES ($1, $2, $3, 0, $4, $5, $5) ON CONFLICT (owner, provider) DO NOTHING`,
			newID, string(p.Owner), p.Provider, string(p.Status), tx.now); err != nil {
			return "", 0, fmt.Errorf("create key row: %w", err)
		}
		err = tx.QueryRow(ctx, `SELECT id, current_version FROM provider_keys WHERE owner = $1 AND provider = $2 FOR UPDATE`,
			string(p.Owner), p.Provider).Scan(&keyID, &current)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return "", 0, fmt.Errorf("lock key row: %w", err)
		}
		return keyID, current, nil
	}
	return "", 0, keygate.Errorf(keygate.CodeConflict, "The %s key changed concurrently; try again.", bare(p.Provider))
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
		rows, err := tx.Query(ctx, `SELECT `+keyColumns+keyFrom+`WHERE k.owner = $1 ORDER BY k.provider COLLATE "C"`, string(owner))
		if err != nil {
			return err
		}
		ks, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (keygate.ProviderKey, error) { return scanKey(r) })
		return err
	})
	return ks, err
}

// DeleteKey erases every version of the owner's key for provider and appends
// ev with KeyID, Version, Hint and Fingerprint of the deleted current
// version. Returns not_found if there is none.
func (db *DB) DeleteKey(ctx context.Context, owner keygate.TenantID, provider string, ev keygate.AuditEvent) error {
	return db.write(ctx, fmt.Sprintf("delete %s key of %s", provider, owner), func(tx *tx) error {
		// Lock the key row alone first: after waiting for a concurrent
		// rotation, a locked join would recheck the new current_version
		// against the old version row and find nothing. The read after the
		// lock sees the rotation.
		var locked string
		err := tx.QueryRow(ctx, `SELECT id FROM provider_keys WHERE owner = $1 AND provider = $2 FOR UPDATE`,
			string(owner), provider).Scan(&locked)
		if errors.Is(err, pgx.ErrNoRows) {
			return noKey(owner, provider)
		}
		if err != nil {
			return fmt.Errorf("lock key row: %w", err)
		}
		k, err := getKey(ctx, tx, owner, provider)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM provider_key_versions WHERE key_id = $1`, k.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM provider_keys WHERE id = $1`, k.ID); err != nil {
			return err
		}
		ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint = k.ID, k.Version, k.Hint, k.Fingerprint
		return db.appendAudit(ctx, tx, &ev)
	})
}

// getKey reads the owner's current key for provider.
func getKey(ctx context.Context, tx *tx, owner keygate.TenantID, provider string) (keygate.ProviderKey, error) {
	k, err := scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+keyFrom+`WHERE k.owner = $1 AND k.provider = $2`,
		string(owner), provider))
	if errors.Is(err, pgx.ErrNoRows) {
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

func scanKey(row pgx.Row) (keygate.ProviderKey, error) {
	var k keygate.ProviderKey
	var owner, status string
	err := row.Scan(&k.ID, &owner, &k.Provider, &k.Version, &k.Hint, &k.Fingerprint, &status,
		tsDest{&k.LastCheckedAt}, &k.LastError, &k.CreatedBy, tsDest{&k.CreatedAt}, tsDest{&k.UpdatedAt},
		&k.Sealed.Ciphertext, &k.Sealed.WrappedDEK, &k.Sealed.KEKID)
	k.Owner, k.Status = keygate.TenantID(owner), keygate.KeyStatus(status)
	return k, err
}
