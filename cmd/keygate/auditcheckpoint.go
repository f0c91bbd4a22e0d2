// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/audit"
)

// writeCheckpoint writes a signed checkpoint of the audit trail's head to
// path atomically: a 0600 temporary file in the same directory, synced,
// then renamed over path, so a reader never sees a partial checkpoint.
func writeCheckpoint(ctx context.Context, path string, keys *audit.Keys, store audit.Scanner) error {
	cp, err := keys.Checkpoint(ctx, store, time.Now())
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	return nil
}

// refuseNewMasterKey is asked before keygate creates a missing master-key
// file: if the database already holds data encrypted under a master key,
// the file was lost, not never made, and a new key would open none of it.
// It refuses then, so that nothing is written and the operator restores
// the file from a backup.
func refuseNewMasterKey(ctx context.Context, store keygate.Store, path string) error {
	refs, err := store.ListWrapped(ctx, "", 1)
	if err != nil {
		return fmt.Errorf("check the database before creating master key file %s: %w", path, err)
	}
	if len(refs) == 0 {
		return nil
	}
	return errors.New("the master key file " + path + " is missing but the database holds data encrypted under master key " +
		refs[0].KEKID + ": restore the key file from your backup (or point --master-key at the key). " +
		"keygate does not create a new master key, which could open none of it")
}
