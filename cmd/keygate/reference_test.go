// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/config"
)

var update = flag.Bool("update", false, "rewrite the command reference of docs/cli.md from the command table")

const (
	cliDoc   = "../../docs/cli.md"
	refBegin = "<!-- BEGIN command reference: generated from the command table by `go test ./cmd/keygate -run TestCLIReference -update`; edit the commands, not this section -->\n"
	refEnd   = "<!-- END command reference -->\n"
)

// reference returns the command reference section of docs/cli.md: every
// command's --help, exactly as the binary prints it.
func reference(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(refBegin)
	b.WriteString("## Command reference\n\nEvery command's `--help`, as the binary prints it.\n")
	section := func(name, help string) {
		fmt.Fprintf(&b, "\n### keygate %s\n\n```text\n%s```\n", name, help)
	}
	var serve bytes.Buffer
	if _, err := config.Load([]string{"-h"}, func(string) string { return "" }, &serve); err != flag.ErrHelp {
		t.Fatalf("serve --help: %v", err)
	}
	section("serve", serve.String())
	for _, cmd := range commands() {
		args := append(strings.Fields(cmd.name()), "--help")
		r := runEnv(t, nil, "", args...)
		if r.exit != exitOK || r.stderr != "" {
			t.Fatalf("keygate %s --help: exit %d, stderr %q", cmd.name(), r.exit, r.stderr)
		}
		section(cmd.name(), r.stdout)
	}
	b.WriteString(refEnd)
	return b.String()
}

// TestCLIReference checks that the command reference of docs/cli.md is
// every command's --help as it is now (-update rewrites it), and that the
// overview table of docs/cli.md has a row for every command and names none
// that does not exist.
func TestCLIReference(t *testing.T) {
	doc, err := os.ReadFile(cliDoc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	want := reference(t)
	i, j := strings.Index(text, refBegin), strings.Index(text, refEnd)
	var got, updated string
	if i < 0 || j < i {
		updated = strings.TrimRight(text, "\n") + "\n\n" + want
	} else {
		got = text[i : j+len(refEnd)]
		updated = text[:i] + want + text[j+len(refEnd):]
	}
	if *update {
		if err := os.WriteFile(cliDoc, []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		got = want
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("docs/cli.md's command reference is stale: run go test ./cmd/keygate -run TestCLIReference -update (-want +got):\n%s", diff)
	}

	// The overview table: | `noun verb ARGS` | what it does |.
	names := map[string]bool{"help": true, "serve": true}
	for _, cmd := range commands() {
		names[cmd.name()] = true
	}
	_, table, _ := strings.Cut(text, "\n## Commands\n")
	table, _, _ = strings.Cut(table, "\n## ")
	// `audit [list] ...` is audit list, which the noun alone also runs.
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)(?: \\[?([a-z-]+)\\]?)?")
	seen := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(table, -1) {
		switch {
		case names[m[1]+" "+m[2]]:
			seen[m[1]+" "+m[2]] = true
		case names[m[1]]:
			seen[m[1]] = true
		default:
			t.Errorf("docs/cli.md lists %q, which is no command", strings.TrimSpace(m[1]+" "+m[2]))
		}
	}
	for _, cmd := range commands() {
		if !seen[cmd.name()] {
			t.Errorf("docs/cli.md's table of commands has no row for %q", cmd.name())
		}
	}
}
