// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// usageFooter documents the settings and exit codes scripts rely on. Keep it
// in step with docs/cli.md.
const usageFooter = `Settings:
  KEYGATE_ADDR     server address (default ` + defaultAddr + `); flag --addr
  KEYGATE_TOKEN    admin token (kga_...); flag --token, which other users can see in ps
  Provider keys are read from standard input or a hidden prompt, never from arguments.

Output:
  Read commands print an aligned table; --json prints the API object(s) as one JSON document.
  Errors print "keygate: <message> (<code>)" on stderr.

Exit codes:
  0  ok
  1  failure: server, network or internal error; audit chain broken; key test
     unverifiable (key_unverifiable); health --fail-on-red found a red key (keys_red)
  2  usage error: unknown command, bad flags or arguments
  3  not found (not_found)
  4  unauthorized or forbidden
  5  conflict (a name is taken, a concurrent change won)
  6  input rejected by the server (invalid_request, invalid_json, invalid_key_format,
     unknown_provider, body_too_large), or a key the provider rejected (key_rejected)
`

// printUsage prints the whole usage text to w.
func (c *cli) printUsage(w io.Writer) error {
	fmt.Fprint(w, `keygate: bring-your-own-key gateway for multi-tenant AI platforms

Usage:
  keygate serve [flags]              run the server (keygate serve --help)
  keygate <command> [flags] [args]   manage a running server through /api/v1
  keygate help [<command>]           show help
  keygate version                    print the version

Commands:
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, cmd := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", cmd.name(), cmd.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nExamples:\n"+
		"  keygate tenant create acme --byok=true\n"+
		"  printf '%%s' \"$OPENAI_API_KEY\" | keygate key set --tenant acme --provider openai\n"+
		"  keygate key list --tenant acme\n"+
		"  keygate health --all --fail-on-red                # for monitoring: exit 1 if a key is red\n"+
		"  keygate token create --tenant acme --name web     # the app's gateway token, printed once\n"+
		"  keygate policy set --tenant acme --provider openai --mode tenant_only\n"+
		"  keygate audit --tenant acme --since 24h\n"+
		"  keygate budget set --tenant acme --daily-usd 12.50 --hard=true\n"+
		"  keygate usage --tenant acme --since 7d --group-by provider,day\n\n")
	_, err := fmt.Fprint(w, usageFooter)
	return err
}

// printNounUsage prints the commands of one noun to w.
func (c *cli) printNounUsage(w io.Writer, noun string) error {
	fmt.Fprintf(w, "Usage:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, cmd := range commands() {
		if cmd.noun == noun {
			fmt.Fprintf(tw, "  keygate %s %s\t%s\n", cmd.name(), cmd.args, cmd.summary)
		}
	}
	tw.Flush()
	common := "Every command takes --addr and --token; read commands take --json."
	if noun == "dev" {
		common = "These commands run locally and talk to no keygate server."
	}
	_, err := fmt.Fprintf(w, "\n%s\n"+
		"Run 'keygate %s <subcommand> --help' for its flags, 'keygate help' for settings and exit codes.\n", common, noun)
	return err
}

// help is `keygate help [noun [verb]]`.
func (c *cli) help(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return c.printUsage(c.stdout)
	}
	for _, cmd := range commands() {
		if cmd.noun != args[0] {
			continue
		}
		if len(args) > 1 && cmd.verb == args[1] || cmd.verb == "" {
			// A command's --help prints its usage and returns before it
			// does anything.
			return c.exec(ctx, cmd, []string{"--help"})
		}
		if len(args) == 1 {
			return c.printNounUsage(c.stdout, args[0])
		}
	}
	return usagef("no help for %q", strings.Join(args, " "))
}
