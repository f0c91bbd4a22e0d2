// SPDX-License-Identifier: Apache-2.0

// Package migrations holds keygate's database schema as one numbered sequence
// of SQL migrations, embedded in the binary, and the runner that applies them.
//
// Each migration exists once per dialect, as NNNN_name.<dialect>.sql
// (0001_init.sqlite.sql and 0001_init.postgres.sql): the dialects differ in
// types (INTEGER unix microseconds vs timestamptz, BLOB vs bytea) and a shared
// text with placeholders would hide more than it saves. Both dialects must
// have the same migration numbers and names and create the same tables,
// columns and indexes; migrations_test.go checks it.
//
// The package imports only the standard library; the sqlite and postgres
// backends hand it a *sql.DB.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Dialect names an SQL dialect that has its own migration files.
type Dialect string

// The dialects keygate ships migrations for.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Migration is one step of the schema.
type Migration struct {
	// Version is the migration number, from 1, without gaps.
	Version int
	// Name is the part of the file name between the number and the dialect
	// ("init" for 0001_init.sqlite.sql).
	Name string
	// SQL is the file's text: one or more statements run in one transaction.
	SQL string
}

//go:embed *.sql
var files embed.FS

// List returns the migrations of dialect d ordered by version. It fails for
// an unknown dialect, a misnamed file, a duplicate number or a gap.
func List(d Dialect) ([]Migration, error) {
	return list(files, d)
}

func list(fsys fs.FS, d Dialect) ([]Migration, error) {
	if d != SQLite && d != Postgres {
		return nil, fmt.Errorf("unknown migration dialect %q", d)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []Migration
	for _, name := range names {
		m, dialect, err := parseName(name)
		if err != nil {
			return nil, err
		}
		if dialect != d {
			continue
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		m.SQL = string(b)
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("%s migrations: want version %d, found %04d_%s (duplicate or gap)", d, i+1, m.Version, m.Name)
		}
	}
	return ms, nil
}

// parseName splits "0001_init.sqlite.sql" into its number, name and dialect.
func parseName(file string) (Migration, Dialect, error) {
	bad := func(why string) (Migration, Dialect, error) {
		return Migration{}, "", fmt.Errorf("migration file %s: %s (want NNNN_name.<dialect>.sql)", file, why)
	}
	base := strings.TrimSuffix(path.Base(file), ".sql")
	stem, dialect, ok := strings.Cut(base, ".")
	if !ok || (Dialect(dialect) != SQLite && Dialect(dialect) != Postgres) {
		return bad("no known dialect")
	}
	num, name, ok := strings.Cut(stem, "_")
	if !ok || len(num) != 4 || name == "" {
		return bad("no 4-digit number and name")
	}
	v, err := strconv.Atoi(num)
	if err != nil || v < 1 {
		return bad("bad number")
	}
	return Migration{Version: v, Name: name}, Dialect(dialect), nil
}
