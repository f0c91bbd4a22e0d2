package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
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

// ListWrapped returns up to limit (default 100, maximum 1000) wrapped data
// keys, of provider key versions and then of settings, whose master key is
// not notKEKID, in a stable order (key id and version, then setting name).
// Destroyed key versions have nothing left to re-wrap and are skipped.
func (db *DB) ListWrapped(ctx context.Context, notKEKID string, limit int) ([]keygate.WrappedRef, error) {
	var refs []keygate.WrappedRef
	err := db.read(ctx, "list wrapped data keys", func(tx *tx) error {
		rows, err := tx.Query(ctx, `
			SELECT * FROM (
				SELECT 'key' AS kind, key_id, version, '' AS name, wrapped_dek, kek_id FROM provider_key_versions
					WHERE kek_id <> $1 AND destroyed_at IS NULL AND wrapped_dek IS NOT NULL
				UNION ALL
				SELECT 'setting', '', 0, name, wrapped_dek, kek_id FROM settings WHERE kek_id <> $1
			) w
			ORDER BY kind COLLATE "C", key_id COLLATE "C", version, name COLLATE "C" LIMIT $2`,
			notKEKID, clamp(limit, listWrappedDefault, listWrappedMax))
		if err != nil {
			return err
		}
		refs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (keygate.WrappedRef, error) {
			var ref keygate.WrappedRef
			err := r.Scan(&ref.Kind, &ref.KeyID, &ref.Version, &ref.Name, &ref.WrappedDEK, &ref.KEKID)
			return ref, err
		})
		return err
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
		q = `UPDATE provider_key_versions SET wrapped_dek = $1, kek_id = $2
			WHERE key_id = $3 AND version = $4 AND kek_id = $5 AND wrapped_dek = $6 AND destroyed_at IS NULL`
		args = []any{wrapped, newKEKID, ref.KeyID, ref.Version, ref.KEKID, ref.WrappedDEK}
	case kindSetting:
		q = `UPDATE settings SET wrapped_dek = $1, kek_id = $2 WHERE name = $3 AND kek_id = $4 AND wrapped_dek = $5`
		args = []any{wrapped, newKEKID, ref.Name, ref.KEKID, ref.WrappedDEK}
	default:
		return false, keygate.Errorf(keygate.CodeInvalidRequest, "Unknown wrapped key kind %s.", quote(ref.Kind))
	}
	var changed bool
	err := db.write(ctx, fmt.Sprintf("rewrap %s %s%s", ref.Kind, ref.KeyID, ref.Name), func(tx *tx) error {
		tag, err := tx.Exec(ctx, q, args...)
		changed = tag.RowsAffected() == 1
		return err
	})
	return changed, err
}
