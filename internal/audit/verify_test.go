// SPDX-License-Identifier: Apache-2.0

package audit_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/audit"
	"github.com/keygate/keygate/internal/sqlite"
)

// TestVerifyDetectsTampering builds a trail of five events, tampers with a
// copy of the database in one way per case (with the append-only triggers
// dropped, as an attacker with file access could), and checks that Verify
// names the first broken event.
func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name    string
		sql     string
		ok      bool
		problem string
	}{
		{"Intact", ``, true, ""},
		{"EditedRow", `UPDATE audit_events SET hint = '...HACK' WHERE seq = 3`, false, "event 3 was altered"},
		{"EditedAndRehashed", `UPDATE audit_events SET action = 'key.set', hash = 'ff' WHERE seq = 3`, false, "event 3 was altered"},
		{"DeletedMiddleRow", `DELETE FROM audit_events WHERE seq = 2`, false, "event 2 is missing"},
		{"DeletedLastRow", `DELETE FROM audit_events WHERE seq = 5`, false, "recorded head is event 5"},
		{"RelinkedRow", `UPDATE audit_events SET prev_hash = '00' WHERE seq = 4`, false, "event 4 does not link"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "keygate.db")
			db, err := sqlite.Open(ctx, path, sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for i, action := range []string{keygate.ActionTenantCreated, keygate.ActionKeySet, keygate.ActionKeyRotated, keygate.ActionKeyRotated, keygate.ActionKeyCleared} {
				if _, err := db.AppendAudit(ctx, keygate.AuditEvent{Action: action, Tenant: "tn_a", Provider: "openai", Version: i, Hint: "...abcd"}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.sql != "" {
				raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := raw.Exec(`DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete; ` + tc.sql); err != nil {
					t.Fatal(err)
				}
				raw.Close()
			}
			res, err := audit.Verify(ctx, db, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != tc.ok || !strings.Contains(res.Problem, tc.problem) {
				t.Fatalf("Verify = %+v, want ok=%v and a problem mentioning %q", res, tc.ok, tc.problem)
			}
			if tc.ok && res.Events != 5 {
				t.Errorf("events = %d, want 5", res.Events)
			}
		})
	}
}
