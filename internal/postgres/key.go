package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

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
	p, err := sqlstore.CheckPutKey(p)
	if err != nil {
		return keygate.ProviderKey{}, err
	}
	var k keygate.ProviderKey
	err = db.write(ctx, fmt.Sprintf("put %s key of %s", p.Provider, p.Owner), func(tx *tx) error {
		if !p.Owner.IsPlatform() {
			// FOR SHARE: a concurrent DeleteTenant (FOR UPDATE) waits for
			// this key to be written, then deletes it too.
			if err := lockTenant(ctx, tx, p.Owner, "FOR SHARE"); err != nil {
				return err
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
		k, err = dialect.PutVersion(ctx, tx, p, keyID, current, newest+1)
		if err != nil {
			return err
		}
		sqlstore.PutKeyEvent(&ev, keyID, k.Version, p)
		tx.Announce(keygate.Change{Kind: keygate.ChangeKey, Owner: p.Owner, Provider: p.Provider})
		return db.appendAudit(ctx, tx, &ev)
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
		newID, idErr := db.ids.New("pk_")
		if idErr != nil {
			return "", 0, idErr
		}
		if _, err := tx.ExecStmt(ctx, dialect.InsertKeyRow(newID, p, tx.now).With(" ON CONFLICT (owner, provider) DO NOTHING")); err != nil {
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
	return "", 0, keygate.Errorf(keygate.CodeConflict, "The %s key changed concurrently; try again.", sqlstore.Bare(p.Provider))
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
		if err := lockKey(ctx, tx, owner, provider); err != nil {
			return err
		}
		k, err := dialect.ReadKey(ctx, tx, owner, provider)
		if err != nil {
			return err
		}
		if err := dialect.DeleteKey(ctx, tx, k.ID); err != nil {
			return err
		}
		sqlstore.KeyEvent(&ev, k)
		tx.Announce(keygate.Change{Kind: keygate.ChangeKey, Owner: owner, Provider: provider})
		return db.appendAudit(ctx, tx, &ev)
	})
}

// lockKey locks the provider_keys row of the owner's key for provider FOR
// UPDATE, alone (not joined with its versions), or returns not_found.
func lockKey(ctx context.Context, tx *tx, owner keygate.TenantID, provider string) error {
	var locked string
	err := tx.QueryRow(ctx, `SELECT id FROM provider_keys WHERE owner = $1 AND provider = $2 FOR UPDATE`,
		string(owner), provider).Scan(&locked)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.NoKey(owner, provider)
	}
	if err != nil {
		return fmt.Errorf("lock key row: %w", err)
	}
	return nil
}
