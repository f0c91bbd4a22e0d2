// SPDX-License-Identifier: Apache-2.0

package migrations

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestDialectsMatch(t *testing.T) {
	lite := MustList(t, SQLite)
	pg := MustList(t, Postgres)
	names := func(ms []Migration) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	if diff := cmp.Diff(names(lite), names(pg)); diff != "" {
		t.Fatalf("migration names differ between sqlite and postgres (-sqlite +postgres):\n%s", diff)
	}
	// Compare the schema after each step, not only at the end, so that a
	// column added by 0002 in one dialect and by 0003 in the other shows.
	var liteSQL, pgSQL string
	for i := range lite {
		liteSQL += lite[i].SQL
		pgSQL += pg[i].SQL
		if diff := cmp.Diff(parseSchema(liteSQL), parseSchema(pgSQL)); diff != "" {
			t.Errorf("schema after %04d_%s differs (-sqlite +postgres):\n%s", lite[i].Version, lite[i].Name, diff)
		}
	}
}

func TestSchemaHasTables(t *testing.T) {
	s := parseSchema(joinSQL(MustList(t, SQLite)))
	want := []string{"admin_tokens", "audit_events", "audit_head", "budgets", "gateway_tokens", "policies", "price_imports",
		"provider_key_versions", "provider_keys", "rate_limits", "settings", "tenants",
		"usage_daily", "usage_events", "usage_hourly"}
	var got []string
	for name := range s.Tables {
		got = append(got, name)
	}
	if diff := cmp.Diff(want, got, cmpSorted); diff != "" {
		t.Errorf("tables (-want +got):\n%s", diff)
	}
}

func TestParseSchemaSeesDifferences(t *testing.T) {
	base := "CREATE TABLE t (\n\ta TEXT NOT NULL,\n\tb INTEGER\n);\nCREATE INDEX t_a ON t (a);"
	tests := []struct {
		name  string
		other string
	}{
		{"MissingColumn", "CREATE TABLE t (\n\ta TEXT NOT NULL\n);\nCREATE INDEX t_a ON t (a);"},
		{"Nullability", "CREATE TABLE t (\n\ta TEXT,\n\tb INTEGER\n);\nCREATE INDEX t_a ON t (a);"},
		{"IndexColumns", "CREATE TABLE t (\n\ta TEXT NOT NULL,\n\tb INTEGER\n);\nCREATE INDEX t_a ON t (a, b);"},
		{"ViewColumns", base + "\nCREATE VIEW v AS\nSELECT a, b AS c\nFROM t;"},
		{"AddedColumn", base + "\nALTER TABLE t ADD COLUMN c TEXT NOT NULL DEFAULT '';"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if cmp.Equal(parseSchema(base), parseSchema(tc.other)) {
				t.Errorf("parseSchema sees no difference between\n%s\nand\n%s", base, tc.other)
			}
		})
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		dialect Dialect
		want    []Migration
		wantErr string
	}{
		{
			name: "OK",
			files: fstest.MapFS{
				"0002_more.sqlite.sql":   {Data: []byte("B")},
				"0001_init.sqlite.sql":   {Data: []byte("A")},
				"0001_init.postgres.sql": {Data: []byte("P")},
			},
			dialect: SQLite,
			want:    []Migration{{1, "init", "A"}, {2, "more", "B"}},
		},
		{
			name:    "ErrGap",
			files:   fstest.MapFS{"0001_a.sqlite.sql": {}, "0003_c.sqlite.sql": {}},
			dialect: SQLite,
			wantErr: "want version 2",
		},
		{
			name:    "ErrDuplicate",
			files:   fstest.MapFS{"0001_a.postgres.sql": {}, "0001_b.postgres.sql": {}},
			dialect: Postgres,
			wantErr: "want version 2",
		},
		{
			name:    "ErrUnknownDialect",
			files:   fstest.MapFS{"0001_a.mysql.sql": {}},
			dialect: SQLite,
			wantErr: "no known dialect",
		},
		{
			name:    "ErrNoNumber",
			files:   fstest.MapFS{"init.sqlite.sql": {}},
			dialect: SQLite,
			wantErr: "no 4-digit number",
		},
		{
			name:    "ErrBadDialectArg",
			files:   fstest.MapFS{},
			dialect: "oracle",
			wantErr: "unknown migration dialect",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := list(tc.files, tc.dialect)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("list: err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("list (-want +got):\n%s", diff)
			}
		})
	}
}

func MustList(tb testing.TB, d Dialect) []Migration {
	tb.Helper()
	ms, err := List(d)
	if err != nil {
		tb.Fatalf("List(%s): %v", d, err)
	}
	if len(ms) == 0 {
		tb.Fatalf("List(%s): no migrations", d)
	}
	return ms
}

func joinSQL(ms []Migration) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.SQL)
	}
	return b.String()
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
})

// schema is the dialect-neutral shape of a migration sequence: what must be
// the same in every dialect. Column types are left out on purpose: they are
// exactly what differs.
type schema struct {
	// Tables maps a table to its items: "col name [NOT NULL] [REF table]"
	// for columns, the normalized text of table constraints otherwise.
	Tables map[string][]string
	// Indexes maps an index name to "table (columns)".
	Indexes map[string]string
	// Views maps a view to the names of its columns, in order.
	Views map[string][]string
}

var (
	reComment     = regexp.MustCompile(`--[^\n]*`)
	reCreateTable = regexp.MustCompile(`(?is)CREATE TABLE (?:IF NOT EXISTS )?(\w+) \((.*?)\n\)`)
	reCreateIndex = regexp.MustCompile(`(?i)CREATE (?:UNIQUE )?INDEX (?:IF NOT EXISTS )?(\w+) ON (\w+) \(([^)]*)\)`)
	reReferences  = regexp.MustCompile(`(?i)REFERENCES (\w+)`)
	reSpace       = regexp.MustCompile(`\s+`)
	reCreateView  = regexp.MustCompile(`(?is)CREATE VIEW (\w+) AS\s+SELECT\s(.*?)\nFROM `)
	reColumnAlias = regexp.MustCompile(`(?is)(?:\bAS\s+|^)(\w+)\s*$`)
	reAddColumn   = regexp.MustCompile(`(?is)ALTER TABLE (\w+) ADD COLUMN ([^;]*);`)
)

// parseSchema extracts tables, columns and indexes from migration SQL
// written in this package's layout (one item per line inside CREATE TABLE).
// It is not an SQL parser; it only needs to read the files in this package.
func parseSchema(sqlText string) schema {
	sqlText = reComment.ReplaceAllString(sqlText, "")
	s := schema{Tables: map[string][]string{}, Indexes: map[string]string{}, Views: map[string][]string{}}
	for _, m := range reCreateTable.FindAllStringSubmatch(sqlText, -1) {
		var items []string
		for _, item := range splitTop(m[2]) {
			item = strings.TrimSpace(reSpace.ReplaceAllString(item, " "))
			upper := strings.ToUpper(item)
			switch {
			case item == "":
				continue
			case strings.HasPrefix(upper, "CONSTRAINT "), strings.HasPrefix(upper, "PRIMARY KEY"),
				strings.HasPrefix(upper, "UNIQUE"), strings.HasPrefix(upper, "FOREIGN KEY"), strings.HasPrefix(upper, "CHECK"):
				items = append(items, upper)
				continue
			}
			items = append(items, columnItem(item))
		}
		s.Tables[m[1]] = items
	}
	for _, m := range reAddColumn.FindAllStringSubmatch(sqlText, -1) {
		item := strings.TrimSpace(reSpace.ReplaceAllString(m[2], " "))
		s.Tables[m[1]] = append(s.Tables[m[1]], columnItem(item))
	}
	for _, m := range reCreateView.FindAllStringSubmatch(sqlText, -1) {
		var cols []string
		for _, item := range splitTop(m[2]) {
			name := "?"
			if a := reColumnAlias.FindStringSubmatch(strings.TrimSpace(item)); a != nil {
				name = a[1]
			}
			cols = append(cols, name)
		}
		s.Views[m[1]] = cols
	}
	for _, m := range reCreateIndex.FindAllStringSubmatch(sqlText, -1) {
		s.Indexes[m[1]] = m[2] + " (" + reSpace.ReplaceAllString(m[3], "") + ")"
	}
	return s
}

// columnItem is the dialect-neutral form of one column definition:
// "col name [NOT NULL] [PK] [REF table]".
func columnItem(item string) string {
	upper := strings.ToUpper(item)
	col := "col " + strings.Fields(item)[0]
	if strings.Contains(upper, "NOT NULL") {
		col += " NOT NULL"
	}
	if strings.Contains(upper, "PRIMARY KEY") {
		col += " PK"
	}
	if r := reReferences.FindStringSubmatch(item); r != nil {
		col += " REF " + r[1]
	}
	return col
}

// splitTop splits s at the commas that are not inside parentheses.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func TestSchemaHasViews(t *testing.T) {
	want := []string{"seq", "id", "project_id", "actor_id", "actor_name", "action", "provider", "key_id", "version", "hint", "request_id", "occurred_at"}
	for _, d := range []Dialect{SQLite, Postgres} {
		s := parseSchema(joinSQL(MustList(t, d)))
		if diff := cmp.Diff(want, s.Views["byok_audit_log"]); diff != "" {
			t.Errorf("%s byok_audit_log columns (-want +got):\n%s", d, diff)
		}
	}
}

func TestSchemaTenantsKeyAdmins(t *testing.T) {
	want := []string{"col id NOT NULL PK", "col name NOT NULL", "col byok_enabled NOT NULL", "col created_at NOT NULL",
		"col updated_at NOT NULL", "CONSTRAINT TENANTS_NAME_KEY UNIQUE (NAME)", "col key_admins NOT NULL"}
	for _, d := range []Dialect{SQLite, Postgres} {
		s := parseSchema(joinSQL(MustList(t, d)))
		if diff := cmp.Diff(want, s.Tables["tenants"]); diff != "" {
			t.Errorf("%s tenants (-want +got):\n%s", d, diff)
		}
	}
}
