// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/keygate/keygate/internal/client"
)

// presetAdmin is the admin token of the tests that restart the server (a
// generated one is printed only at the first start).
const presetAdmin = "kga_auditKeyedTestsOnly_9fQ2xLr7TzW4mN8bV3cJ6hK1"

func adminEnv() map[string]string {
	return map[string]string{"KEYGATE_ADMIN_TOKEN": presetAdmin}
}

// TestServeAuditCheckpoint: keygate audit checkpoint prints a signed
// checkpoint, serve --audit-checkpoint-file writes one (0600) at
// shutdown, and after a database administrator removes the newest events
// and moves the head back, audit verify passes without the checkpoint but
// fails with either one (exit 1). An edited checkpoint is refused too.
func TestServeAuditCheckpoint(t *testing.T) {
	dir := t.TempDir()
	cpFile := filepath.Join(t.TempDir(), "checkpoint.json")
	s := MustServe(t, dir, adminEnv(), "--audit-checkpoint-file", cpFile)
	var out bytes.Buffer
	for _, name := range []string{"acme", "globex", "initech"} {
		if r := cliRun(t, s, presetAdmin, "", &out, "tenant", "create", name); r.exit != 0 {
			t.Fatalf("tenant create: %+v", r)
		}
	}
	r := cliRun(t, s, presetAdmin, "", &out, "audit", "checkpoint")
	if r.exit != 0 {
		t.Fatalf("audit checkpoint: %+v", r)
	}
	var cp client.AuditCheckpoint
	if err := json.Unmarshal([]byte(r.stdout), &cp); err != nil || cp.Seq < 4 || cp.KeyID == "" || cp.Signature == "" {
		t.Fatalf("checkpoint %q: %+v %v", r.stdout, cp, err)
	}
	printed := filepath.Join(t.TempDir(), "printed.json")
	if err := os.WriteFile(printed, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := cliRun(t, s, presetAdmin, "", &out, "audit", "verify", "--checkpoint", printed); r.exit != 0 || !strings.Contains(r.stdout, "ok") {
		t.Fatalf("verify against a fresh checkpoint: %+v", r)
	}
	edited := cp
	edited.Seq--
	b, _ := json.Marshal(edited)
	forged := filepath.Join(t.TempDir(), "forged.json")
	if err := os.WriteFile(forged, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := cliRun(t, s, presetAdmin, "", &out, "audit", "verify", "--checkpoint", forged); r.exit != 1 || !strings.Contains(r.stderr, "signature does not verify") {
		t.Fatalf("verify against an edited checkpoint: %+v", r)
	}
	s.Stop(t)

	fi, err := os.Stat(cpFile)
	if err != nil {
		t.Fatalf("checkpoint file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("checkpoint file mode %04o, want 0600", fi.Mode().Perm())
	}
	var written client.AuditCheckpoint
	if b, err := os.ReadFile(cpFile); err != nil || json.Unmarshal(b, &written) != nil || written.Seq != cp.Seq || written.Hash != cp.Hash {
		t.Fatalf("checkpoint file %s: %+v (%v); want the head %d %s", b, written, err, cp.Seq, cp.Hash)
	}

	// A DBA deletes the two newest events and moves the head back.
	dbPath := filepath.Join(dir, "keygate.db")
	raw, err := sql.Open("sqlite", dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`DROP TRIGGER audit_events_no_delete;
		DELETE FROM audit_events WHERE seq > (SELECT seq - 2 FROM audit_head);
		UPDATE audit_head SET seq = (SELECT MAX(seq) FROM audit_events), hash = (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	s = MustServe(t, dir, adminEnv())
	if r := cliRun(t, s, presetAdmin, "", &out, "audit", "verify"); r.exit != 0 {
		t.Fatalf("verify without a checkpoint: %+v (the truncation is invisible to the database alone)", r)
	}
	for _, f := range []string{cpFile, printed} {
		r := cliRun(t, s, presetAdmin, "", &out, "audit", "verify", "--checkpoint", f)
		if r.exit != 1 || !strings.Contains(r.stderr, "events were removed") {
			t.Errorf("verify --checkpoint %s after the truncation: %+v", filepath.Base(f), r)
		}
	}
}

// TestServeMissingMasterKeyFile: a server whose master key file is gone
// while the database holds data encrypted under it refuses to start, says
// why, and does not write a new key file (which could open nothing).
func TestServeMissingMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	s := MustServe(t, dir, adminEnv())
	s.Stop(t)
	keyFile := filepath.Join(dir, "master.key")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	env := adminEnv()
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir},
		func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "master key file "+keyFile+" is missing but the database holds data encrypted") {
		t.Fatalf("serve without its key file: %v", err)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a new master key file was written: %v", err)
	}
}

// TestServeMasterKeyRetire: after keygate master-key rotate and the
// rewrap, keygate master-key retire removes the old key from the key file
// (refused for the primary); the audit trail, sealed by a new audit key
// since the rotation, still verifies, before and after a restart with the
// file as it is now.
func TestServeMasterKeyRetire(t *testing.T) {
	dir := t.TempDir()
	s := MustServe(t, dir, adminEnv())
	var out bytes.Buffer
	jsonOut := func(v any, args ...string) {
		t.Helper()
		r := cliRun(t, s, presetAdmin, "", &out, append(args, "--json")...)
		if r.exit != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
		if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
			t.Fatalf("%v: %q: %v", args, r.stdout, err)
		}
	}
	if r := cliRun(t, s, presetAdmin, "", &out, "tenant", "create", "acme"); r.exit != 0 {
		t.Fatalf("tenant create: %+v", r)
	}
	var rot client.MasterKeyRotation
	jsonOut(&rot, "master-key", "rotate")
	if r := cliRun(t, s, presetAdmin, "", &out, "master-key", "retire", rot.Primary); r.exit == 0 || !strings.Contains(r.stderr, "primary") {
		t.Fatalf("retire the primary: %+v", r)
	}
	waitFor(t, "the rewrap", func() bool {
		var st client.MasterKey
		jsonOut(&st, "master-key", "status")
		return st.PendingRewrap == 0
	})
	if r := cliRun(t, s, presetAdmin, "", &out, "master-key", "retire", rot.Previous); r.exit != 0 {
		t.Fatalf("retire %s: %+v", rot.Previous, r)
	}
	b, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(rot.Previous)) || !bytes.Contains(b, []byte(rot.Primary)) {
		t.Fatalf("key file after retire still names %s or lost %s", rot.Previous, rot.Primary)
	}
	if r := cliRun(t, s, presetAdmin, "", &out, "audit", "verify"); r.exit != 0 {
		t.Fatalf("audit verify after retire: %+v", r)
	}
	var evs client.AuditPage
	jsonOut(&evs, "audit", "list", "--action", "audit.key_created")
	if len(evs.Events) != 2 {
		t.Errorf("%d audit.key_created events, want 2 (first start, rotation)", len(evs.Events))
	}
	s.Stop(t)

	s = MustServe(t, dir, adminEnv())
	if r := cliRun(t, s, presetAdmin, "", &out, "tenant", "create", "globex"); r.exit != 0 {
		t.Fatalf("tenant create after restart: %+v", r)
	}
	if r := cliRun(t, s, presetAdmin, "", &out, "audit", "verify"); r.exit != 0 {
		t.Fatalf("audit verify after restart: %+v", r)
	}
}
