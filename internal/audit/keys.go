// SPDX-License-Identifier: Apache-2.0

package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
)

// KeySettingPrefix starts the name of the sealed setting that holds each
// audit MAC key: "audit_key:" + its id. Persisted: never change it.
const KeySettingPrefix = "audit_key:"

// keySize is the size of an audit MAC key: 256 bits for HMAC-SHA256.
const keySize = 32

// KeyStore is the storage the audit keys need: sealed settings to hold
// them, and the trail, to announce a new key in it.
type KeyStore interface {
	InitSetting(ctx context.Context, name string, s keygate.Sealed) (keygate.Sealed, error)
	ListSettings(ctx context.Context, prefix string) ([]keygate.Setting, error)
	AppendAudit(ctx context.Context, ev keygate.AuditEvent) (keygate.AuditEvent, error)
	ScanAudit(ctx context.Context, afterSeq int64, limit int) ([]keygate.AuditEvent, error)
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
}

// Keys holds the audit MAC keys, opened through the master keyring and kept
// in memory: the current one seals new events (keygate.AuditSealer) and
// signs checkpoints; every one verifies. Each is a random 32-byte key,
// sealed as a setting under the master key like a data key, so the rewrap
// job moves it to a new master key and a retired master key takes none of
// them with it. Safe for concurrent use.
type Keys struct {
	store   KeyStore
	keyring *envelope.Keyring
	rand    io.Reader

	mu      sync.RWMutex
	keys    map[string][]byte
	current string
}

// NewKeys returns the audit keys of store, opened with keyring; rnd makes
// new keys and their ids (nil: crypto/rand). Call Init before use.
func NewKeys(store KeyStore, keyring *envelope.Keyring, rnd io.Reader) *Keys {
	if rnd == nil {
		rnd = rand.Reader
	}
	return &Keys{store: store, keyring: keyring, rand: rnd, keys: map[string][]byte{}}
}

// Init opens every stored audit key and makes the newest current. On the
// first start with keyed audit it creates the first key; it refuses to
// when the newest event is sealed (the keys were deleted from the
// database). If the newest
// event is not sealed by a key (the first start, or a start after a crash
// between storing a key and announcing it), it appends an
// audit.key_created event sealed by the current key, so a keyed trail
// always ends with a keyed event and the events before it are bound by it.
// sealWith is called with k before that event is appended: it is where the
// caller makes the store seal with k (Store.SealAuditWith).
func (k *Keys) Init(ctx context.Context, sealWith func(keygate.AuditSealer)) error {
	if err := k.Load(ctx); err != nil {
		return err
	}
	seq, _, err := k.store.AuditHead(ctx)
	if err != nil {
		return fmt.Errorf("read audit head: %w", err)
	}
	var head keygate.AuditEvent
	if seq > 0 {
		evs, err := k.store.ScanAudit(ctx, seq-1, 1)
		if err != nil {
			return fmt.Errorf("read audit event %d: %w", seq, err)
		}
		if len(evs) == 1 {
			head = evs[0]
		}
	}
	if k.Current() == "" {
		if head.MACKeyID != "" {
			// Sealed events and no key: the keys were deleted. Making a
			// new one would hide that.
			return fmt.Errorf("the newest audit event %d is sealed by audit key %s, but no audit key is stored: "+
				"the audit keys were removed from the database; restore it from a backup", head.Seq, head.MACKeyID)
		}
		if _, err := k.create(ctx); err != nil {
			return err
		}
	}
	sealWith(k)
	if head.MACKeyID != "" {
		return nil
	}
	return k.announce(ctx, keygate.AuditEvent{ActorName: "keygate"}, k.Current())
}

// Load opens every stored audit key (again) and makes the newest current.
// Keys another replica made since the last Load become known.
func (k *Keys) Load(ctx context.Context) error {
	settings, err := k.store.ListSettings(ctx, KeySettingPrefix)
	if err != nil {
		return fmt.Errorf("list audit keys: %w", err)
	}
	opened := make(map[string][]byte, len(settings))
	current := ""
	for _, s := range settings {
		id := strings.TrimPrefix(s.Name, KeySettingPrefix)
		key, err := k.keyring.Open(ctx, s.Sealed, envelope.SettingAD(s.Name))
		if err != nil {
			return fmt.Errorf("open audit key %s: %w", id, err)
		}
		b := key.RevealBytes()
		if len(b) != keySize {
			key.Wipe()
			return fmt.Errorf("open audit key %s: %d bytes, want %d", id, len(b), keySize)
		}
		opened[id] = append([]byte(nil), b...)
		key.Wipe()
		current = id // oldest first: the last is the newest
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for id, b := range k.keys {
		if _, ok := opened[id]; !ok {
			opened[id] = b // made here and not yet listed: keep it
		}
	}
	k.keys = opened
	if current != "" {
		k.current = current
	}
	return nil
}

// Rotate makes a new audit key current, sealed under the primary master
// key, and appends an audit.key_created event sealed by it (ev gives the
// actor). Events sealed by older keys keep verifying: those keys stay.
// Run it after a master-key rotation, so that whoever holds an old master
// key and an old backup of the database cannot seal new events.
func (k *Keys) Rotate(ctx context.Context, ev keygate.AuditEvent) (string, error) {
	id, err := k.create(ctx)
	if err != nil {
		return "", err
	}
	return id, k.announce(ctx, ev, id)
}

// create makes, stores and opens a new key and makes it current.
func (k *Keys) create(ctx context.Context) (string, error) {
	var raw [keySize]byte
	var idb [4]byte
	if _, err := io.ReadFull(k.rand, raw[:]); err != nil {
		return "", fmt.Errorf("generate audit key: %w", err)
	}
	if _, err := io.ReadFull(k.rand, idb[:]); err != nil {
		return "", fmt.Errorf("generate audit key id: %w", err)
	}
	id := "ak_" + hex.EncodeToString(idb[:])
	name := KeySettingPrefix + id
	secret := keygate.NewSecretBytes(raw[:])
	defer secret.Wipe()
	dk, err := k.keyring.NewDataKey(ctx)
	if err != nil {
		clear(raw[:])
		return "", fmt.Errorf("audit key %s: %w", id, err)
	}
	sealed, err := dk.Seal(secret, envelope.SettingAD(name))
	dk.Destroy()
	if err != nil {
		clear(raw[:])
		return "", fmt.Errorf("seal audit key %s: %w", id, err)
	}
	stored, err := k.store.InitSetting(ctx, name, sealed)
	if err != nil {
		clear(raw[:])
		return "", fmt.Errorf("store audit key %s: %w", id, err)
	}
	// The id is random: a stored setting of that name that is not ours
	// is a collision, refused rather than silently adopted.
	if string(stored.Ciphertext) != string(sealed.Ciphertext) {
		clear(raw[:])
		return "", fmt.Errorf("store audit key %s: the id is taken", id)
	}
	k.mu.Lock()
	k.keys[id] = append([]byte(nil), raw[:]...)
	k.current = id
	k.mu.Unlock()
	clear(raw[:])
	return id, nil
}

// announce appends the audit.key_created event of key id.
func (k *Keys) announce(ctx context.Context, ev keygate.AuditEvent, id string) error {
	detail, _ := json.Marshal(map[string]string{"audit_key": id})
	ev.Action = keygate.ActionAuditKeyCreated
	ev.Detail = string(detail)
	if _, err := k.store.AppendAudit(ctx, ev); err != nil {
		return fmt.Errorf("audit new audit key %s: %w", id, err)
	}
	return nil
}

// Current returns the id of the key that seals new events, "" before Init.
func (k *Keys) Current() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current
}

// Len returns the number of keys held.
func (k *Keys) Len() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.keys)
}

// errNoKey means no audit key is loaded: Init did not run.
var errNoKey = errors.New("no audit key is loaded")

// SealAudit implements keygate.AuditSealer with the current key.
func (k *Keys) SealAudit(ev *keygate.AuditEvent, prev string) error {
	k.mu.RLock()
	defer k.mu.RUnlock()
	key, ok := k.keys[k.current]
	if !ok {
		return errNoKey
	}
	ev.MACKeyID = k.current
	ev.Hash = ev.ComputeMAC(key, prev)
	return nil
}

// key returns the key id, loading the stored keys again once if it is not
// held (another replica may have made it).
func (k *Keys) key(ctx context.Context, id string) ([]byte, bool, error) {
	k.mu.RLock()
	key, ok := k.keys[id]
	k.mu.RUnlock()
	if ok {
		return key, true, nil
	}
	if err := k.Load(ctx); err != nil {
		return nil, false, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	key, ok = k.keys[id]
	return key, ok, nil
}

// CheckMAC implements MACs.
func (k *Keys) CheckMAC(ctx context.Context, ev *keygate.AuditEvent, prev string) (known, ok bool, err error) {
	key, known, err := k.key(ctx, ev.MACKeyID)
	if err != nil || !known {
		return known, false, err
	}
	return true, equalHex(ev.ComputeMAC(key, prev), ev.Hash), nil
}

// Keyed implements MACs: keys exist, so the trail must end sealed.
func (k *Keys) Keyed() bool { return k.Len() > 0 }
