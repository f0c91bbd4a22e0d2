package sqlite

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

// ListWrapped returns up to limit (default 100, maximum 1000) wrapped data keys, of
// provider key versions and then of settings, whose master key is not
// notKEKID, in a stable order (key id and version, then setting name).
// Destroyed key versions have nothing left to re-wrap and are skipped.
func (db *DB) ListWrapped(ctx context.Context, notKEKID string, limit int) ([]keygate.WrappedRef, error) {
	var refs []keygate.WrappedRef
	err := db.read(ctx, "list wrapped data keys", func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT 'key', key_id, version, '', wrapped_dek, kek_id FROM provider_key_versions
				WHERE kek_id <> ? AND destroyed_at IS NULL AND wrapped_dek IS NOT NULL
			UNION ALL
			SELECT 'setting', '', 0, name, wrapped_dek, kek_id FROM settings WHERE kek_id <> ?
			ORDER BY 1, 2, 3, 4 LIMIT ?`, notKEKID, notKEKID, clamp(limit, listWrappedDefault, listWrappedMax))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r keygate.WrappedRef
			if err := rows.Scan(&r.Kind, &r.KeyID, &r.Version, &r.Name, &r.WrappedDEK, &r.KEKID); err != nil {
				return err
			}
			refs = append(refs, r)
		}
		return rows.Err()
	})
	return refs, err
}

// Rewrap sets the wrapped data key of ref to wrapped under newKEKID if the
// row still holds ref.WrappedDEK under ref.KEKID, and reports whether it
// did. A row that is gone, destroyed or was changed meanwhile is left alone
// (false, nil).
// Returns invalid_request for an unknown ref.Kind.
func (db *DB) Rewrap(ctx context.Context, ref keygate.WrappedRef, wrapped []byte, newKEKID string) (bool, error) {
	var q string
	var args []any
	switch ref.Kind {
	case kindKey:
		q = `UPDATE provider_key_versions SET wrapped_dek = ?, kek_id = ?
			WHERE key_id = ? AND version = ? AND kek_id = ? AND wrapped_dek = ? AND destroyed_at IS NULL`
		args = []any{wrapped, newKEKID, ref.KeyID, ref.Version, ref.KEKID, ref.WrappedDEK}
	case kindSetting:
		q = `UPDATE settings SET wrapped_dek = ?, kek_id = ? WHERE name = ? AND kek_id = ? AND wrapped_dek = ?`
		args = []any{wrapped, newKEKID, ref.Name, ref.KEKID, ref.WrappedDEK}
	default:
		return false, keygate.Errorf(keygate.CodeInvalidRequest, "Unknown wrapped key kind %s.", quote(ref.Kind))
	}
	var changed bool
	err := db.write(ctx, fmt.Sprintf("rewrap %s %s%s", ref.Kind, ref.KeyID, ref.Name), func(tx *tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		changed = n == 1
		return err
	})
	return changed, err
}
