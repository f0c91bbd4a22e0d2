// SPDX-License-Identifier: Apache-2.0

package keeper

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// DefaultFileName is the key file's name in the data directory.
const DefaultFileName = "master.key"

func defaultFile(dataDir string) string { return filepath.Join(dataDir, DefaultFileName) }

// keyFile is the JSON content of a key file: a small keyring. Persisted:
// fields are never renamed.
type keyFile struct {
	// Version is the file format version, 1.
	Version int `json:"version"`
	// Primary is the id of the key that wraps new data keys.
	Primary string    `json:"primary"`
	Keys    []fileKey `json:"keys"`
}

type fileKey struct {
	ID        string    `json:"id"`
	Key       []byte    `json:"key"` // standard base64 in JSON
	CreatedAt time.Time `json:"created_at"`
}

const keyFileVersion = 1

// openFile opens the key file at path, creating it (with a first key) when
// it does not exist and create is set.
func openFile(path string, create bool, opt Options) (source, error) {
	kf, err := readKeyFile(path)
	created := false
	if errors.Is(err, fs.ErrNotExist) && create {
		if opt.BeforeCreate != nil {
			if err := opt.BeforeCreate(path); err != nil {
				return source{}, err
			}
		}
		kf, created, err = createKeyFile(path, opt)
	}
	if err != nil {
		return source{}, err
	}
	defer kf.wipe()
	primary, others, err := kf.keks(path, opt)
	if err != nil {
		return source{}, err
	}
	return source{kind: KindFile, created: created, path: path, primary: primary, others: others}, nil
}

// readKeyFile reads and checks the key file. Errors: fs.ErrNotExist (wrapped)
// when absent, ErrInsecureFile, ErrBadKey for bad content.
func readKeyFile(path string) (*keyFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open master key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat master key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: master key file %s is not a regular file", ErrBadKey, path)
	}
	// Windows has no group/other bits to check.
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("%w: %s has mode %04o; restrict it with: chmod 600 %s", ErrInsecureFile, path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read master key file %s: %w", path, err)
	}
	defer clear(b)
	var kf keyFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&kf); err != nil {
		// json errors quote field names and offsets, never values.
		return nil, fmt.Errorf("%w: master key file %s is not a valid key file: %w", ErrBadKey, path, err)
	}
	if err := kf.validate(); err != nil {
		kf.wipe()
		return nil, fmt.Errorf("%w: master key file %s: %w", ErrBadKey, path, err)
	}
	return &kf, nil
}

func (kf *keyFile) validate() error {
	if kf.Version != keyFileVersion {
		return fmt.Errorf("unknown key file version %d", kf.Version)
	}
	if len(kf.Keys) == 0 {
		return errors.New("no keys")
	}
	seen := make(map[string]bool)
	for i, k := range kf.Keys {
		if k.ID == "" {
			return fmt.Errorf("key %d has no id", i+1)
		}
		if seen[k.ID] {
			return fmt.Errorf("key id %s appears twice", k.ID)
		}
		seen[k.ID] = true
		if len(k.Key) != keySize {
			return fmt.Errorf("key %s is %d bytes, want %d", k.ID, len(k.Key), keySize)
		}
	}
	if !seen[kf.Primary] {
		return fmt.Errorf("primary key %q is not in the file", kf.Primary)
	}
	return nil
}

// keks returns the primary KEK and the others, in file order.
func (kf *keyFile) keks(path string, opt Options) (KEK, []KEK, error) {
	var primary KEK
	var others []KEK
	for _, k := range kf.Keys {
		kek, err := newLocalKEK(k.ID, k.Key, opt.Rand)
		if err != nil {
			return nil, nil, fmt.Errorf("master key file %s: %w", path, err)
		}
		if k.ID == kf.Primary {
			primary = kek
		} else {
			others = append(others, kek)
		}
	}
	return primary, others, nil
}

// wipe zeroes the key bytes once the KEKs are built.
func (kf *keyFile) wipe() {
	for _, k := range kf.Keys {
		clear(k.Key)
	}
}

// addKey generates a key with a fresh id, appends it and makes it primary.
func (kf *keyFile) addKey(opt Options) error {
	key := make([]byte, keySize)
	if _, err := io.ReadFull(opt.Rand, key); err != nil {
		return fmt.Errorf("generate master key: %w", err)
	}
	for {
		var b [4]byte
		if _, err := io.ReadFull(opt.Rand, b[:]); err != nil {
			return fmt.Errorf("generate master key id: %w", err)
		}
		id := "mk_" + hex.EncodeToString(b[:])
		if !kf.has(id) {
			kf.Keys = append(kf.Keys, fileKey{ID: id, Key: key, CreatedAt: opt.Now().UTC().Truncate(time.Second)})
			kf.Primary = id
			return nil
		}
	}
}

func (kf *keyFile) has(id string) bool {
	for _, k := range kf.Keys {
		if k.ID == id {
			return true
		}
	}
	return false
}

// createKeyFile makes a key file with one key at path, exclusively: if
// another process created it meanwhile, that file is read instead (created
// is then false).
func createKeyFile(path string, opt Options) (kf *keyFile, created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("create master key directory: %w", err)
	}
	kf = &keyFile{Version: keyFileVersion}
	if err := kf.addKey(opt); err != nil {
		return nil, false, err
	}
	err = writeKeyFile(path, kf, false)
	if errors.Is(err, fs.ErrExist) {
		kf.wipe()
		kf, err = readKeyFile(path)
		return kf, false, err
	}
	if err != nil {
		kf.wipe()
		return nil, false, err
	}
	return kf, true, nil
}

// rotateFile adds a new primary key to the key file at path and returns the
// new KEKs.
func rotateFile(path string, opt Options) (KEK, []KEK, error) {
	// Reread: the file is the source of truth, not what Open saw.
	kf, err := readKeyFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("rotate: %w", err)
	}
	defer kf.wipe()
	if err := kf.addKey(opt); err != nil {
		return nil, nil, fmt.Errorf("rotate: %w", err)
	}
	if err := writeKeyFile(path, kf, true); err != nil {
		return nil, nil, fmt.Errorf("rotate: %w", err)
	}
	return kf.keks(path, opt)
}

// retireFile removes the non-primary key id from the key file at path and
// returns the remaining KEKs.
func retireFile(path, id string, opt Options) (KEK, []KEK, error) {
	kf, err := readKeyFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("retire %s: %w", id, err)
	}
	defer kf.wipe()
	if kf.Primary == id {
		return nil, nil, fmt.Errorf("retire %s: it is the primary key of %s", id, path)
	}
	kept := kf.Keys[:0:0]
	for _, k := range kf.Keys {
		if k.ID == id {
			clear(k.Key)
			continue
		}
		kept = append(kept, k)
	}
	if len(kept) == len(kf.Keys) {
		return nil, nil, fmt.Errorf("retire %s: not in %s", id, path)
	}
	kf.Keys = kept
	if err := writeKeyFile(path, kf, true); err != nil {
		return nil, nil, fmt.Errorf("retire %s: %w", id, err)
	}
	return kf.keks(path, opt)
}

// writeKeyFile writes kf to path through a 0600 temporary file in the same
// directory, synced before it takes the name, so a crash leaves either the
// old file or the new one, never a partial key file. With replace false it
// fails with fs.ErrExist when path exists (a hard link never overwrites);
// with replace true it renames over it.
func writeKeyFile(path string, kf *keyFile, replace bool) error {
	b, err := json.MarshalIndent(kf, "", "  ")
	if err == nil {
		b = append(b, '\n')
	}
	if err != nil {
		return fmt.Errorf("encode master key file: %w", err)
	}
	defer clear(b)
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return fmt.Errorf("write master key file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a rename or a link, a no-op or the spare name
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write master key file: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write master key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write master key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write master key file: %w", err)
	}
	if replace {
		err = os.Rename(tmp.Name(), path)
	} else {
		err = os.Link(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write master key file %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		// Make the new name durable; best effort, not every OS allows it.
		_ = d.Sync()
		d.Close()
	}
	return nil
}
