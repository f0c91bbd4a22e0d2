// SPDX-License-Identifier: Apache-2.0

package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Checkpoint is a signed statement of the audit trail's head, published
// outside the database (a file, the output of keygate audit checkpoint) so
// that removing the newest events and moving the head back, which the
// database alone cannot reveal, is detected by a later Verify.
//
// Signature is the hex HMAC-SHA256, under the audit key KeyID, of the
// length-prefixed label "keygate.audit.checkpoint.v1", Seq, Hash, Time (Unix
// microseconds) and KeyID. The label differs from the events' own, so a
// checkpoint can never pass for an event MAC or the reverse. It is a MAC,
// not a public-key signature: only the server, which holds the audit keys
// through the master key, can make or check one, and the database alone
// can do neither. Persisted (operators keep the files): never rename.
type Checkpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"`
}

// checkpointMAC returns the signature of cp under key.
func checkpointMAC(key []byte, cp Checkpoint) string {
	h := hmac.New(sha256.New, key)
	var n [8]byte
	writeInt := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	writeStr := func(s string) {
		writeInt(int64(len(s)))
		h.Write([]byte(s))
	}
	writeStr("keygate.audit.checkpoint.v1")
	writeInt(cp.Seq)
	writeStr(cp.Hash)
	writeInt(cp.Time.UnixMicro())
	writeStr(cp.KeyID)
	return hex.EncodeToString(h.Sum(nil))
}

// Checkpoint returns the signed checkpoint of s's head at now, signed by the
// current audit key. Errors: no key loaded (Init did not run), or s's.
func (k *Keys) Checkpoint(ctx context.Context, s Scanner, now time.Time) (Checkpoint, error) {
	seq, hash, err := s.AuditHead(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("read audit head: %w", err)
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	key, ok := k.keys[k.current]
	if !ok {
		return Checkpoint{}, errNoKey
	}
	cp := Checkpoint{Seq: seq, Hash: hash, Time: now.UTC().Truncate(time.Microsecond), KeyID: k.current}
	cp.Signature = checkpointMAC(key, cp)
	return cp, nil
}

// ErrBadCheckpoint means a checkpoint's signature does not verify: it was
// edited, forged, or signed by a key this trail does not know.
var ErrBadCheckpoint = errors.New("the checkpoint's signature does not verify")

// CheckpointOK checks cp's signature with the audit key it names. Errors:
// ErrBadCheckpoint (wrapped, with the reason), or a storage or master-key
// failure loading the keys.
func (k *Keys) CheckpointOK(ctx context.Context, cp Checkpoint) error {
	key, known, err := k.key(ctx, cp.KeyID)
	if err != nil {
		return err
	}
	if !known {
		return fmt.Errorf("%w: it names audit key %q, which does not exist", ErrBadCheckpoint, cp.KeyID)
	}
	if !equalHex(checkpointMAC(key, cp), cp.Signature) {
		return fmt.Errorf("%w: it was altered or not made by this server", ErrBadCheckpoint)
	}
	return nil
}
