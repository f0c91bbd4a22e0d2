// SPDX-License-Identifier: Apache-2.0

package audit_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/audit"
	"github.com/keygate/keygate/internal/envelope"
	"github.com/keygate/keygate/internal/keeper"
	"github.com/keygate/keygate/internal/keyvault"
	"github.com/keygate/keygate/internal/postgres"
	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/sqlite"
	"github.com/keygate/keygate/internal/testkit"
)

// sealedStore is a store whose audit events a sealer can seal.
type sealedStore interface {
	keygate.Store
	SealAuditWith(keygate.AuditSealer)
}

// rig is a store with its master key file, keyring, vault and audit keys,
// and a database administrator's raw access to it.
type rig struct {
	ctx     context.Context
	dir     string
	store   sealedStore
	set     *keeper.Set
	keyring *envelope.Keyring
	vault   *keyvault.Service
	keys    *audit.Keys
	// dba runs SQL as someone who owns the database: the append-only
	// triggers do not stop it.
	dba func(t *testing.T, sql string)
}

// engines opens a fresh store per engine: SQLite in a file, PostgreSQL in
// a schema of its own (skipped when absent).
var engines = []struct {
	name string
	open func(t *testing.T, dir string) (sealedStore, func(t *testing.T, sql string))
}{
	{"SQLite", func(t *testing.T, dir string) (sealedStore, func(t *testing.T, sql string)) {
		path := filepath.Join(dir, "keygate.db")
		db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db, func(t *testing.T, q string) {
			raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Exec(`DROP TRIGGER IF EXISTS audit_events_no_update; DROP TRIGGER IF EXISTS audit_events_no_delete; ` + q); err != nil {
				t.Fatalf("dba: %v", err)
			}
		}
	}},
	{"Postgres", func(t *testing.T, dir string) (sealedStore, func(t *testing.T, sql string)) {
		url, schema := testkit.PostgresSchema(t)
		db, err := postgres.Open(context.Background(), url, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db, func(t *testing.T, q string) {
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, `SET search_path TO `+pgx.Identifier{schema}.Sanitize()+`; ALTER TABLE audit_events DISABLE TRIGGER USER; `+q); err != nil {
				t.Fatalf("dba: %v", err)
			}
		}
	}},
}

// forEngine runs fn on a fresh rig of each engine.
func forEngine(t *testing.T, fn func(t *testing.T, r *rig)) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			dir := t.TempDir()
			store, dba := e.open(t, dir)
			r := &rig{ctx: context.Background(), dir: dir, store: store, dba: dba}
			r.open(t)
			fn(t, r)
		})
	}
}

// open (re)opens the master key file, the keyring, the vault and the audit
// keys, as a server start does, and makes the store seal with the keys.
func (r *rig) open(t *testing.T) {
	t.Helper()
	set, err := keeper.Open(r.ctx, "", keeper.Options{DataDir: r.dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	var older []envelope.KEK
	for _, k := range set.Others() {
		older = append(older, k)
	}
	kr, err := envelope.NewKeyring(set.Primary(), older...)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := provider.Default()
	if err != nil {
		t.Fatal(err)
	}
	v := keyvault.New(r.store, kr, cat, keyvault.Options{})
	if err := v.Init(r.ctx); err != nil {
		t.Fatal(err)
	}
	keys := audit.NewKeys(r.store, kr, nil)
	if err := keys.Init(r.ctx, r.store.SealAuditWith); err != nil {
		t.Fatal(err)
	}
	r.set, r.keyring, r.vault, r.keys = set, kr, v, keys
}

// append appends n events.
func (r *rig) append(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := r.store.AppendAudit(r.ctx, keygate.AuditEvent{Action: keygate.ActionKeyRotated, Tenant: "tn_a", Provider: "openai", Version: i + 1, Hint: "...abcd"}); err != nil {
			t.Fatal(err)
		}
	}
}

// verify runs Verify with the rig's keys and cp.
func (r *rig) verify(t *testing.T, cp *audit.Checkpoint) audit.Result {
	t.Helper()
	res, err := audit.Verify(r.ctx, r.store, audit.Options{MACs: r.keys, Checkpoint: cp})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (r *rig) checkpoint(t *testing.T) audit.Checkpoint {
	t.Helper()
	cp, err := r.keys.Checkpoint(r.ctx, r.store, time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.keys.CheckpointOK(r.ctx, cp); err != nil {
		t.Fatalf("fresh checkpoint: %v", err)
	}
	return cp
}

func wantProblem(t *testing.T, res audit.Result, problem string) {
	t.Helper()
	if problem == "" {
		if !res.OK || res.Problem != "" {
			t.Fatalf("Verify = %+v, want ok", res)
		}
		return
	}
	if res.OK || !strings.Contains(res.Problem, problem) {
		t.Fatalf("Verify = %+v, want a problem mentioning %q", res, problem)
	}
}

// TestKeyedChainForgeries tampers with a sealed trail the way a database
// administrator can (triggers off, any SQL) and checks that Verify, with
// the audit keys and a checkpoint taken before, catches each forgery. The
// rehash cases recompute every hash from the edited row on, as a forger
// would: with plain SHA-256 (the unkeyed chain of old), or with an HMAC
// under a key of the forger's own.
func TestKeyedChainForgeries(t *testing.T) {
	tests := []struct {
		name string
		// tamper edits the trail of 8 events (seq 1 is the
		// audit.key_created event of the first start) after a checkpoint
		// of it was taken.
		tamper  func(t *testing.T, r *rig)
		problem string // "" for a trail that must verify
		// noCheckpoint verifies without the checkpoint: what the keys
		// alone catch.
		noCheckpoint bool
	}{
		{"Intact", func(t *testing.T, r *rig) {}, "", false},
		{"IntactAndGrown", func(t *testing.T, r *rig) { r.append(t, 3) }, "", false},
		// Forgery A: delete the newest events and move the head back.
		// The chain alone is consistent; the checkpoint is not.
		{"TruncatedAndHeadMoved", func(t *testing.T, r *rig) {
			r.dba(t, `DELETE FROM audit_events WHERE seq > 5; UPDATE audit_head SET seq = 5, hash = (SELECT hash FROM audit_events WHERE seq = 5)`)
		}, "events were removed", false},
		// Truncation without moving the head: the head catches it.
		{"Truncated", func(t *testing.T, r *rig) { r.dba(t, `DELETE FROM audit_events WHERE seq > 6`) }, "recorded head is event 8", false},
		// Rollback below the checkpoint, then new events: the trail is
		// as long as the checkpoint again, but not the same.
		{"RolledBackAndRegrown", func(t *testing.T, r *rig) {
			r.dba(t, `DELETE FROM audit_events WHERE seq > 5; UPDATE audit_head SET seq = 5, hash = (SELECT hash FROM audit_events WHERE seq = 5)`)
			r.append(t, 4)
		}, "differs from the checkpoint", false},
		// Forgery B: rewrite an event and recompute the rest.
		{"RewrittenPlainSHA256", func(t *testing.T, r *rig) { forge(t, r, 4, nil) }, "event 4 is not sealed by an audit key although event 3", false},
		{"RewrittenOtherKey", func(t *testing.T, r *rig) { forge(t, r, 4, []byte("a key that is not the audit key!")) }, "event 4 was altered: its MAC", false},
		{"RewrittenEditedOnly", func(t *testing.T, r *rig) {
			r.dba(t, `UPDATE audit_events SET hint = '...HACK' WHERE seq = 6`)
		}, "event 6 was altered", false},
		// Every event rewritten as the old unkeyed chain, head moved: no
		// sealed event is left for the keys that exist.
		{"AllRewrittenPlainSHA256", func(t *testing.T, r *rig) { forge(t, r, 1, nil) }, "not sealed by an audit key although audit keys exist", true},
		{"AllRewrittenPlainSHA256WithCheckpoint", func(t *testing.T, r *rig) { forge(t, r, 1, nil) }, "event 8 differs from the checkpoint", false},
		{"UnknownKey", func(t *testing.T, r *rig) {
			r.dba(t, `UPDATE audit_events SET mac_key_id = 'ak_00000000' WHERE seq = 7`)
		}, "event 7 names audit key ak_00000000, which does not exist", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			forEngine(t, func(t *testing.T, r *rig) {
				r.append(t, 7)
				cp := r.checkpoint(t)
				if cp.Seq != 8 {
					t.Fatalf("checkpoint seq = %d, want 8", cp.Seq)
				}
				tc.tamper(t, r)
				if tc.noCheckpoint {
					wantProblem(t, r.verify(t, nil), tc.problem)
					return
				}
				wantProblem(t, r.verify(t, &cp), tc.problem)
			})
		})
	}
}

// forge rewrites event from (its hint) and recomputes every hash from it
// to the head, as a forger without the audit key would: plain SHA-256 with
// key nil (and no key id), else an HMAC under key (keeping the key id).
func forge(t *testing.T, r *rig, from int64, key []byte) {
	t.Helper()
	evs, err := r.store.ScanAudit(r.ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	var stmts []string
	for _, ev := range evs {
		if ev.Seq < from {
			prev = ev.Hash
			continue
		}
		if ev.Seq == from {
			ev.Hint = "...HACK"
		}
		ev.PrevHash = prev
		if key == nil {
			ev.MACKeyID = ""
			ev.Hash = ev.ComputeHash(prev)
		} else {
			ev.Hash = ev.ComputeMAC(key, prev)
		}
		stmts = append(stmts, "UPDATE audit_events SET hint = '"+ev.Hint+"', prev_hash = '"+ev.PrevHash+"', hash = '"+ev.Hash+
			"', mac_key_id = '"+ev.MACKeyID+"' WHERE seq = "+strconv.FormatInt(ev.Seq, 10))
		prev = ev.Hash
	}
	stmts = append(stmts, "UPDATE audit_head SET hash = '"+prev+"'")
	r.dba(t, strings.Join(stmts, "; "))
}

// TestUnkeyedPrefix: events written before keyed sealing keep verifying
// with plain SHA-256, and the first sealed event binds them: rewriting one
// of them and recomputing the plain hashes breaks the sealed one after.
func TestUnkeyedPrefix(t *testing.T) {
	forEngine(t, func(t *testing.T, r *rig) {
		r.store.SealAuditWith(nil) // as a keygate from before keyed sealing
		r.dba(t, `DELETE FROM audit_events; UPDATE audit_head SET seq = 0, hash = ''`)
		r.append(t, 3)
		r.open(t) // the upgrade: seals from now on
		r.append(t, 2)
		evs, err := r.store.ScanAudit(r.ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 6 || evs[2].MACKeyID != "" || evs[3].MACKeyID == "" || evs[3].Action != keygate.ActionAuditKeyCreated {
			t.Fatalf("events = %+v; want 3 unsealed, then audit.key_created and 2 sealed", evs)
		}
		wantProblem(t, r.verify(t, nil), "")
		// Rewrite event 2 and recompute plain hashes up to the unsealed end.
		r.dba(t, `UPDATE audit_events SET hint = '...HACK' WHERE seq = 2`)
		ev2, ev3 := evs[1], evs[2]
		ev2.Hint = "...HACK"
		ev2.Hash = ev2.ComputeHash(ev2.PrevHash)
		ev3.PrevHash = ev2.Hash
		ev3.Hash = ev3.ComputeHash(ev3.PrevHash)
		r.dba(t, "UPDATE audit_events SET hash = '"+ev2.Hash+"' WHERE seq = 2; UPDATE audit_events SET prev_hash = '"+ev3.PrevHash+
			"', hash = '"+ev3.Hash+"' WHERE seq = 3")
		wantProblem(t, r.verify(t, nil), "event 4 does not link to event 3")
	})
}

// TestVerifyAfterMasterKeyRotationAndRetire: a master-key rotation starts
// a new audit key; after the rewrap the old master key can be retired
// (refused before, while records are still wrapped by it), and then it is
// gone from the key file, and a server started with the file as it is now
// opens the audit keys and verifies the whole trail and an old checkpoint.
func TestVerifyAfterMasterKeyRotationAndRetire(t *testing.T) {
	forEngine(t, func(t *testing.T, r *rig) {
		const secret = "sk-testkey000000000000000000000000000042"
		if _, err := r.vault.Put(r.ctx, keyvault.Change{}, keygate.PlatformScope, "openai", keygate.NewSecret(secret)); err != nil {
			t.Fatal(err)
		}
		r.append(t, 3)
		cpBefore := r.checkpoint(t)
		oldMK, oldAK := r.keyring.PrimaryID(), r.keys.Current()
		mk := masterKeys{r.set}
		_, newMK, err := r.vault.RotateMasterKey(r.ctx, keyvault.Change{}, mk)
		if err != nil {
			t.Fatal(err)
		}
		newAK, err := r.keys.Rotate(r.ctx, keygate.AuditEvent{ActorName: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if newAK == oldAK {
			t.Fatalf("audit key %s did not change with the master key", oldAK)
		}
		r.append(t, 2)
		wantProblem(t, r.verify(t, &cpBefore), "")

		// Retire is refused while the provider key, the fingerprint
		// secret and the first audit key are still wrapped by the old
		// master key.
		err = r.vault.RetireMasterKey(r.ctx, keyvault.Change{}, mk, oldMK)
		if !keygate.IsCode(err, keygate.CodeConflict) || !strings.Contains(keygate.ErrorMessage(err), "3 data keys are still wrapped by master key "+oldMK) {
			t.Fatalf("retire before rewrap: %v, want conflict naming %s", err, oldMK)
		}
		if err := r.vault.RetireMasterKey(r.ctx, keyvault.Change{}, mk, newMK); !keygate.IsCode(err, keygate.CodeConflict) {
			t.Fatalf("retire the primary: %v, want conflict", err)
		}
		if _, err := r.vault.Rewrap(r.ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.vault.RetireMasterKey(r.ctx, keyvault.Change{}, mk, oldMK); err != nil {
			t.Fatalf("retire after rewrap: %v", err)
		}
		wantProblem(t, r.verify(t, &cpBefore), "")

		// A fresh start with the key file as retire left it.
		r.open(t)
		if r.set.Primary().ID() != newMK || len(r.set.Others()) != 0 {
			t.Fatalf("key file holds primary %s and %d others, want %s alone", r.set.Primary().ID(), len(r.set.Others()), newMK)
		}
		if r.keys.Len() != 2 || r.keys.Current() != newAK {
			t.Fatalf("audit keys: %d, current %s; want 2, current %s", r.keys.Len(), r.keys.Current(), newAK)
		}
		r.append(t, 1)
		wantProblem(t, r.verify(t, &cpBefore), "")
		wantProblem(t, r.verify(t, ptr(r.checkpoint(t))), "")
		got, _, err := r.vault.Resolve(r.ctx, keygate.PlatformScope, "openai")
		if err != nil || got.Reveal() != secret {
			t.Fatalf("the provider key after retire and restart: %v", err)
		}
		evs, err := r.store.ListAudit(r.ctx, keygate.AuditFilter{Action: keygate.ActionMasterKeyRetire})
		if err != nil || len(evs) != 1 || !strings.Contains(evs[0].Detail, oldMK) {
			t.Fatalf("master_key.retired events = %+v, %v", evs, err)
		}
	})
}

// TestCheckpointSignature: a checkpoint edited in any field, or signed by
// another key, does not verify.
func TestCheckpointSignature(t *testing.T) {
	forEngine(t, func(t *testing.T, r *rig) {
		r.append(t, 2)
		cp := r.checkpoint(t)
		edits := map[string]func(c *audit.Checkpoint){
			"Seq":       func(c *audit.Checkpoint) { c.Seq = 1 },
			"Hash":      func(c *audit.Checkpoint) { c.Hash = strings.Repeat("0", 64) },
			"Time":      func(c *audit.Checkpoint) { c.Time = c.Time.Add(time.Microsecond) },
			"KeyID":     func(c *audit.Checkpoint) { c.KeyID = "ak_00000000" },
			"Signature": func(c *audit.Checkpoint) { c.Signature = strings.Repeat("0", 64) },
		}
		for name, edit := range edits {
			c := cp
			edit(&c)
			if err := r.keys.CheckpointOK(r.ctx, c); err == nil {
				t.Errorf("checkpoint with edited %s verified", name)
			}
		}
	})
}

// masterKeys adapts a keeper set to the vault's MasterKeys.
type masterKeys struct{ set *keeper.Set }

func (m masterKeys) Rotate(ctx context.Context) (envelope.KEK, error) { return m.set.Rotate(ctx) }
func (m masterKeys) Retire(ctx context.Context, id string) error      { return m.set.Retire(ctx, id) }

func ptr[T any](v T) *T { return &v }

// TestKeysDeleted: a start that finds sealed events but no audit key
// refuses, rather than make a new key that would hide the deletion.
func TestKeysDeleted(t *testing.T) {
	forEngine(t, func(t *testing.T, r *rig) {
		r.append(t, 2)
		r.dba(t, `DELETE FROM settings WHERE name LIKE 'audit_key:%'`)
		keys := audit.NewKeys(r.store, r.keyring, nil)
		err := keys.Init(r.ctx, r.store.SealAuditWith)
		if err == nil || !strings.Contains(err.Error(), "no audit key is stored") {
			t.Fatalf("Init without the audit keys: %v", err)
		}
		if n, err := r.store.ListSettings(r.ctx, audit.KeySettingPrefix); err != nil || len(n) != 0 {
			t.Fatalf("audit keys after the refused start: %v %v", n, err)
		}
	})
}
