// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"context"
	"time"

	"github.com/keygate/keygate"
)

// initSetting inserts s under name at now unless a setting with that name
// exists.
func (d Dialect) initSetting(name string, s keygate.Sealed, now time.Time) Stmt {
	return Stmt{d.render(`INSERT INTO settings (name, ciphertext, wrapped_dek, kek_id, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`),
		[]any{name, nonNil(s.Ciphertext), nonNil(s.WrappedDEK), s.KEKID, d.timeArg(now)}}
}

// readSetting reads the setting name in tx; not_found if it is not set.
func (d Dialect) readSetting(ctx context.Context, tx Tx, name string) (keygate.Sealed, error) {
	var s keygate.Sealed
	err := tx.QueryRowStmt(ctx, Stmt{d.render(`SELECT ciphertext, wrapped_dek, kek_id FROM settings WHERE name = ?`), []any{name}}).
		Scan(&s.Ciphertext, &s.WrappedDEK, &s.KEKID)
	if tx.NoRows(err) {
		return keygate.Sealed{}, keygate.Errorf(keygate.CodeNotFound, "Setting %s is not set.", Quote(name))
	}
	return s, err
}

// listSettings selects the settings whose name starts with prefix, oldest
// first, then by name.
func (d Dialect) listSettings(prefix string) Stmt {
	return Stmt{d.render(`SELECT name, ciphertext, wrapped_dek, kek_id, created_at FROM settings
		WHERE substr(name, 1, ?) = ? ORDER BY created_at, ` + d.bytewise("name")),
		[]any{len(prefix), prefix}}
}

// scanSetting reads a row of listSettings.
func scanSetting(row Row) (keygate.Setting, error) {
	var s keygate.Setting
	err := row.Scan(&s.Name, &s.Sealed.Ciphertext, &s.Sealed.WrappedDEK, &s.Sealed.KEKID, timeDest{&s.CreatedAt})
	return s, err
}

// nonNil turns a nil slice into an empty one for NOT NULL byte columns.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
