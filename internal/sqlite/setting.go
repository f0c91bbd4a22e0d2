package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/keygate/keygate"
)

// GetSetting returns the sealed server setting name; not_found if absent.
func (db *DB) GetSetting(ctx context.Context, name string) (keygate.Sealed, error) {
	var s keygate.Sealed
	err := db.read(ctx, "get setting "+name, func(tx *tx) error {
		var err error
		s, err = getSetting(ctx, tx, name)
		return err
	})
	return s, err
}

// InitSetting stores s under name unless a setting with that name exists,
// and returns the one stored: s, or the existing setting unchanged. Returns
// invalid_request for an empty name.
func (db *DB) InitSetting(ctx context.Context, name string, s keygate.Sealed) (keygate.Sealed, error) {
	if name == "" {
		return keygate.Sealed{}, keygate.Errorf(keygate.CodeInvalidRequest, "A setting needs a name.")
	}
	var out keygate.Sealed
	err := db.write(ctx, "init setting "+name, func(tx *tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, ciphertext, wrapped_dek, kek_id, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
			name, nonNil(s.Ciphertext), nonNil(s.WrappedDEK), s.KEKID, micros(tx.now)); err != nil {
			return err
		}
		var err error
		out, err = getSetting(ctx, tx, name)
		return err
	})
	return out, err
}

func getSetting(ctx context.Context, tx *tx, name string) (keygate.Sealed, error) {
	var s keygate.Sealed
	err := tx.QueryRowContext(ctx, `SELECT ciphertext, wrapped_dek, kek_id FROM settings WHERE name = ?`, name).
		Scan(&s.Ciphertext, &s.WrappedDEK, &s.KEKID)
	if errors.Is(err, sql.ErrNoRows) {
		return s, keygate.Errorf(keygate.CodeNotFound, "Setting %s is not set.", quote(name))
	}
	return s, err
}

// nonNil turns a nil slice into an empty one for NOT NULL BLOB columns.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
