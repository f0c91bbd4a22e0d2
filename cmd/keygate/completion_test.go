// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// helpFlags returns the flags that `keygate <args> --help` lists, read from
// the help text itself: what a user sees.
func helpFlags(t *testing.T, args ...string) []string {
	t.Helper()
	r := runEnv(t, nil, "", append(args, "--help")...)
	if r.exit != exitOK {
		t.Fatalf("keygate %s --help: exit %d, stderr %q", strings.Join(args, " "), r.exit, r.stderr)
	}
	var out []string
	for line := range strings.Lines(r.stdout) {
		if strings.HasPrefix(line, "  -") {
			out = append(out, "--"+strings.Fields(line)[0][1:])
		}
	}
	return out
}

// bashComplete runs the bash completion script once for every line (the
// words before the cursor, then the word being completed) and returns what
// it offers for each.
func bashComplete(t *testing.T, script string, lines [][]string) [][]string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed (Debian package bash): the bash completion script is not run")
	}
	var b strings.Builder
	b.WriteString(script)
	for _, words := range lines {
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		fmt.Fprintf(&b, "COMP_WORDS=(%s); COMP_CWORD=%d; COMPREPLY=(); _keygate; echo \"${COMPREPLY[*]}\"\n", strings.Join(quoted, " "), len(words)-1)
	}
	path := filepath.Join(t.TempDir(), "complete.bash")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bash, "--norc", "--noprofile", path).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(got) != len(lines) {
		t.Fatalf("bash printed %d lines for %d completions:\n%s", len(got), len(lines), out)
	}
	res := make([][]string, len(got))
	for i, l := range got {
		res[i] = strings.Fields(l)
	}
	return res
}

// TestCompletionMatchesHelp runs the bash completion script for every
// command of the command table and checks that it offers exactly the
// flags that the command's --help lists, and every noun and verb: a
// command or flag added, renamed or removed without the completion
// following fails here.
func TestCompletionMatchesHelp(t *testing.T) {
	r := runEnv(t, nil, "", "completion", "bash")
	if r.exit != exitOK {
		t.Fatalf("completion bash: exit %d, stderr %q", r.exit, r.stderr)
	}
	type line struct {
		words []string
		want  []string
	}
	var lines []line
	var nouns []string
	verbs := map[string][]string{}
	for _, cmd := range commands() {
		if !slices.Contains(nouns, cmd.noun) {
			nouns = append(nouns, cmd.noun)
		}
		if cmd.verb == "" {
			want := helpFlags(t, cmd.noun)
			if cmd.noun == "completion" {
				want = append([]string{"bash", "zsh", "fish"}, want...)
			}
			lines = append(lines, line{[]string{"keygate", cmd.noun, ""}, want})
			continue
		}
		verbs[cmd.noun] = append(verbs[cmd.noun], cmd.verb)
		lines = append(lines, line{[]string{"keygate", cmd.noun, cmd.verb, ""}, helpFlags(t, cmd.noun, cmd.verb)})
		// Flags and their values before the cursor change nothing.
		lines = append(lines, line{[]string{"keygate", "--addr", "http://x", cmd.noun, cmd.verb, "--tenant", "acme", ""}, helpFlags(t, cmd.noun, cmd.verb)})
	}
	for noun, vs := range verbs {
		lines = append(lines, line{[]string{"keygate", noun, ""}, vs})
	}
	lines = append(lines,
		line{[]string{"keygate", ""}, append(append([]string{"serve"}, nouns...), "help")},
		line{[]string{"keygate", "ten"}, []string{"tenant"}},
		line{[]string{"keygate", "--token", "kga_x", "master-key", "ro"}, []string{"rotate"}},
		line{[]string{"keygate", "completion", "z"}, []string{"zsh"}},
		line{[]string{"keygate", "serve", "--master-key-p"}, []string{"--master-key-previous"}},
	)
	in := make([][]string, len(lines))
	for i, l := range lines {
		in[i] = l.words
	}
	got := bashComplete(t, r.stdout, in)
	for i, l := range lines {
		if diff := cmp.Diff(l.want, got[i]); diff != "" {
			t.Errorf("completing %q (-want +got):\n%s", strings.Join(l.words, " "), diff)
		}
	}
}

// TestCompletionScripts checks that each shell's script parses in that
// shell where it is installed, and that every shell gets a script.
func TestCompletionScripts(t *testing.T) {
	for _, sh := range []struct{ name, check, pkg string }{
		// bash is run for every command by TestCompletionMatchesHelp.
		{"bash", "-n", "bash"},
		{"zsh", "-n", "zsh"},
		{"fish", "--no-execute", "fish"},
	} {
		t.Run(sh.name, func(t *testing.T) {
			r := runEnv(t, nil, "", "completion", sh.name)
			if r.exit != exitOK || !strings.Contains(r.stdout, "keygate completion "+sh.name) {
				t.Fatalf("completion %s: exit %d, stderr %q, stdout %.200q", sh.name, r.exit, r.stderr, r.stdout)
			}
			for _, noun := range []string{"tenant", "master-key", "serve", "healthcheck"} {
				if !strings.Contains(r.stdout, noun) {
					t.Errorf("the %s script does not name %s", sh.name, noun)
				}
			}
			bin, err := exec.LookPath(sh.name)
			if err != nil {
				t.Skipf("%s is not installed (Debian package %s): its script is not parsed", sh.name, sh.pkg)
			}
			path := filepath.Join(t.TempDir(), "keygate."+sh.name)
			if err := os.WriteFile(path, []byte(r.stdout), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bin, sh.check, path).CombinedOutput(); err != nil {
				t.Errorf("%s %s: %v\n%s", sh.name, sh.check, err, out)
			}
			// What each script offers after "keygate tenant " and
			// "keygate key set ", with the shell's completion machinery
			// stubbed (zsh) or its own (fish).
			var probe string
			switch sh.name {
			case "zsh":
				probe = `compdef() { :; }; compadd() { [[ $1 == -a ]] && print -r -- ${(P)2} }; source ` + path +
					`; words=(keygate tenant ""); CURRENT=3; _keygate; words=(keygate key set ""); CURRENT=4; _keygate`
			case "fish":
				probe = `source ` + path + `; complete -C "keygate tenant " | string split -f1 \t | string join " "; complete -C "keygate key set --" | string split -f1 \t | string join " "`
			default:
				return
			}
			out, err := exec.Command(bin, "-c", probe).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", sh.name, err, out)
			}
			got := strings.Split(strings.TrimSpace(string(out)), "\n")
			verbs := strings.Fields("create list get update rm")
			flags := helpFlags(t, "key", "set")
			if len(got) != 2 {
				t.Fatalf("%s printed %q", sh.name, out)
			}
			gotVerbs, gotFlags := strings.Fields(got[0]), strings.Fields(got[1])
			if sh.name == "fish" { // fish sorts
				slices.Sort(verbs)
			}
			if diff := cmp.Diff(verbs, gotVerbs); diff != "" {
				t.Errorf("%s after \"keygate tenant \" (-want +got):\n%s", sh.name, diff)
			}
			if diff := cmp.Diff(flags, gotFlags); diff != "" {
				t.Errorf("%s after \"keygate key set \" (-want +got):\n%s", sh.name, diff)
			}
		})
	}
	r := runEnv(t, nil, "", "completion", "powershell")
	if r.exit != exitUsage || !strings.Contains(r.stderr, "want bash, zsh or fish") {
		t.Errorf("completion powershell: exit %d, stderr %q; want usage naming the shells", r.exit, r.stderr)
	}
}
