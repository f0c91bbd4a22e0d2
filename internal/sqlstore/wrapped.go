// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"context"
	"fmt"

	"github.com/keygate/keygate"
)

// Kinds of keygate.WrappedRef.
const (
	kindKey     = "key"
	kindSetting = "setting"
)

// ListWrapped's page size: the default and the maximum.
const (
	listWrappedDefault = 100
	listWrappedMax     = 1000
)

// listWrapped selects up to limit (default 100, maximum 1000) wrapped data
// keys, of provider key versions and then of settings, whose master key is
// not notKEKID, in a stable order (key id and version, then setting name).
// Destroyed key versions have nothing left to re-wrap and are skipped.
func (d Dialect) listWrapped(notKEKID string, limit int) Stmt {
	return Stmt{d.render(`
		SELECT * FROM (
			SELECT 'key' AS kind, key_id, version, '' AS name, wrapped_dek, kek_id FROM provider_key_versions
				WHERE kek_id <> ? AND destroyed_at IS NULL AND wrapped_dek IS NOT NULL
			UNION ALL
			SELECT 'setting', '', 0, name, wrapped_dek, kek_id FROM settings WHERE kek_id <> ?
		) w
		ORDER BY ` + d.bytewise("kind") + `, ` + d.bytewise("key_id") + `, version, ` + d.bytewise("name") + ` LIMIT ?`),
		[]any{notKEKID, notKEKID, clamp(limit, listWrappedDefault, listWrappedMax)}}
}

// scanWrapped reads a row of listWrapped.
func scanWrapped(row Row) (keygate.WrappedRef, error) {
	var r keygate.WrappedRef
	err := row.Scan(&r.Kind, &r.KeyID, &r.Version, &r.Name, &r.WrappedDEK, &r.KEKID)
	return r, err
}

// rewrap sets the wrapped data key of ref to wrapped under newKEKID if the
// row still holds ref.WrappedDEK under ref.KEKID (and, for a key version,
// is not destroyed); one row affected means it did. Returns
// invalid_request for an unknown ref.Kind.
func (d Dialect) rewrap(ref keygate.WrappedRef, wrapped []byte, newKEKID string) (Stmt, error) {
	switch ref.Kind {
	case kindKey:
		return Stmt{d.render(`UPDATE provider_key_versions SET wrapped_dek = ?, kek_id = ?
			WHERE key_id = ? AND version = ? AND kek_id = ? AND wrapped_dek = ? AND destroyed_at IS NULL`),
			[]any{wrapped, newKEKID, ref.KeyID, ref.Version, ref.KEKID, ref.WrappedDEK}}, nil
	case kindSetting:
		return Stmt{d.render(`UPDATE settings SET wrapped_dek = ?, kek_id = ? WHERE name = ? AND kek_id = ? AND wrapped_dek = ?`),
			[]any{wrapped, newKEKID, ref.Name, ref.KEKID, ref.WrappedDEK}}, nil
	}
	return Stmt{}, keygate.Errorf(keygate.CodeInvalidRequest, "Unknown wrapped key kind %s.", Quote(ref.Kind))
}

// announceRewrap announces, in tx, the change of a re-wrapped ref: the key
// whose version it is (read in tx, so that it names the owner and provider
// the version had when it was re-wrapped), or the setting.
func (d Dialect) announceRewrap(ctx context.Context, tx Tx, ref keygate.WrappedRef) error {
	if ref.Kind == kindSetting {
		tx.Announce(keygate.Change{Kind: keygate.ChangeSetting, ID: ref.Name})
		return nil
	}
	c := keygate.Change{Kind: keygate.ChangeKey}
	var owner string
	if err := tx.QueryRowStmt(ctx, Stmt{d.render(`SELECT owner, provider FROM provider_keys WHERE id = ?`), []any{ref.KeyID}}).
		Scan(&owner, &c.Provider); err != nil {
		return fmt.Errorf("read owner of key %s: %w", ref.KeyID, err)
	}
	c.Owner = keygate.TenantID(owner)
	tx.Announce(c)
	return nil
}
