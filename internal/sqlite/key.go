package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

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
	p, err := sqlstore.CheckPutKey(p)
	if err != nil {
		return keygate.ProviderKey{}, err
	}
	var k keygate.ProviderKey
	err = db.write(ctx, fmt.Sprintf("put %s key of %s", p.Provider, p.Owner), func(tx *tx) error {
		if !p.Owner.IsPlatform() {
			if err := mustTenant(ctx, tx, p.Owner); err != nil {
				return err
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
			if keyID, err = db.ids.New("pk_"); err != nil {
				return err
			}
			_, err = tx.ExecStmt(ctx, dialect.InsertKeyRow(keyID, p, tx.now))
		}
		if err != nil {
			return err
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

// DeleteKey erases every version of the owner's key for provider and appends
// ev with KeyID, Version, Hint and Fingerprint of the deleted current
// version. Returns not_found if there is none.
func (db *DB) DeleteKey(ctx context.Context, owner keygate.TenantID, provider string, ev keygate.AuditEvent) error {
	return db.write(ctx, fmt.Sprintf("delete %s key of %s", provider, owner), func(tx *tx) error {
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
