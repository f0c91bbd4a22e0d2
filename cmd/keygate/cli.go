// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/version"
)

// defaultAddr is the server address when neither --addr nor KEYGATE_ADDR is
// set: the address `keygate serve` listens on by default.
const defaultAddr = "http://127.0.0.1:8080"

// cli is one invocation of the command-line client: its environment, its
// streams and the global settings its flags fill in.
type cli struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	now    keygate.Clock

	addr string // --addr, else KEYGATE_ADDR, else defaultAddr
	// server is the address client() resolved, for messages.
	server  string
	token   string // --token; "" means KEYGATE_TOKEN
	jsonOut bool   // --json
	// onUsage, if set, is given the flag set of a command whose usage is
	// printed: how the completion scripts and docs/cli.md learn every
	// command's flags from the command itself.
	onUsage func(fs *flag.FlagSet)
}

// command is one `keygate <noun> [<verb>]` command.
type command struct {
	noun, verb string
	args       string // synopsis after the name, e.g. "NAME [--byok=true|false]"
	summary    string
	json       bool // takes --json
	// local: runs on this machine and talks to no keygate server, so it
	// takes no --addr or --token.
	local bool
	run   func(ctx context.Context, c *cli, cmd *command, args []string) error
}

func (cmd *command) name() string {
	if cmd.verb == "" {
		return cmd.noun
	}
	return cmd.noun + " " + cmd.verb
}

// commands returns every CLI command, in the order of the usage text.
func commands() []*command {
	return []*command{
		{noun: "tenant", verb: "create", args: "NAME [--byok=true|false]", summary: "create a tenant and print its id", json: true, run: tenantCreate},
		{noun: "tenant", verb: "list", summary: "list tenants", json: true, run: tenantList},
		{noun: "tenant", verb: "get", args: "TENANT", summary: "show a tenant", json: true, run: tenantGet},
		{noun: "tenant", verb: "update", args: "TENANT [--byok=true|false] [--key-admins owner_and_admin|owner_only]", summary: "grant or withdraw BYOK; choose who may change the tenant's keys", json: true, run: tenantUpdate},
		{noun: "tenant", verb: "rm", args: "TENANT", summary: "delete a tenant with its keys and tokens", run: tenantRm},

		{noun: "key", verb: "set", args: "(--tenant TENANT | --platform) --provider PROVIDER [--test]  < key", summary: "store or rotate a provider key read from standard input (--test: test it first)", json: true, run: keySet},
		{noun: "key", verb: "test", args: "(--tenant TENANT | --platform) --provider PROVIDER  < key", summary: "ask the provider whether it accepts a key read from standard input, storing nothing", json: true, run: keyTest},
		{noun: "key", verb: "list", args: "--tenant TENANT | --platform", summary: "list provider keys (hints only)", json: true, run: keyList},
		{noun: "key", verb: "get", args: "(--tenant TENANT | --platform) --provider PROVIDER", summary: "show one provider key (hint only)", json: true, run: keyGet},
		{noun: "key", verb: "versions", args: "(--tenant TENANT | --platform) --provider PROVIDER", summary: "list the versions of a provider key, newest first", json: true, run: keyVersions},
		{noun: "key", verb: "rollback", args: "(--tenant TENANT | --platform) --provider PROVIDER", summary: "make the previous version of a provider key current again", json: true, run: keyRollback},
		{noun: "key", verb: "rm", args: "(--tenant TENANT | --platform) --provider PROVIDER", summary: "erase every version of a provider key", run: keyRm},

		{noun: "health", args: "[--tenant TENANT | --platform | --all] [--fail-on-red]", summary: "show key health: green (accepted), red (rejected), grey (not checked)", json: true, run: health},

		{noun: "audit", verb: "list", args: "[--tenant T] [--provider P] [--action A] [--since TIME] [--until TIME] [--limit N] [--before SEQ] [--all]", summary: "list audit events, newest first (also: keygate audit [flags])", json: true, run: auditList},
		{noun: "audit", verb: "export", args: "[--tenant T] [--provider P] [--action A] [--since TIME] [--until TIME] [--format jsonl]", summary: "write every matching audit event as one JSON object per line, newest first", run: auditExport},
		{noun: "audit", verb: "verify", args: "[--checkpoint FILE]", summary: "check the audit chain (and that it still holds a checkpoint's event); exit 1 when it is broken", json: true, run: auditVerify},
		{noun: "audit", verb: "checkpoint", summary: "print a signed checkpoint of the audit trail's head (JSON): keep it outside the database", run: auditCheckpoint},

		{noun: "prices", verb: "list", args: "[--provider PROVIDER]", summary: "show the price table in effect (USD per million tokens) and its fallbacks", json: true, run: pricesList},
		{noun: "prices", verb: "import", args: "FILE [--source litellm|openrouter]", summary: "load a LiteLLM or OpenRouter price list as the newest prices (platform admins)", json: true, run: pricesImport},

		{noun: "master-key", verb: "status", summary: "show the master key and the rewrap backlog", json: true, run: masterKeyStatus},
		{noun: "master-key", verb: "rotate", summary: "make a new master key primary and rewrap in the background", json: true, run: masterKeyRotate},
		{noun: "master-key", verb: "retire", args: "mk_...", summary: "remove an old master key from the key file for good, once nothing is wrapped by it", json: true, run: masterKeyRetire},

		{noun: "admin-token", verb: "create", args: "--name NAME --role ROLE [--tenant TENANT] [--expires-in 90d]", summary: "create an admin token and print it once", json: true, run: adminTokenCreate},
		{noun: "admin-token", verb: "list", args: "[--tenant TENANT]", summary: "list admin tokens", json: true, run: adminTokenList},
		{noun: "admin-token", verb: "revoke", args: "ID", summary: "revoke an admin token", run: adminTokenRevoke},

		{noun: "token", verb: "create", args: "--tenant TENANT [--name NAME] [--expires-in 90d] [--providers P,..] [--models 'gpt-4o*',..] [--daily-usd USD] [--monthly-usd USD] [--daily-tokens N] [--monthly-tokens N] [--rpm N] [--tpm N]", summary: "create a gateway token (kg_...) for a tenant's apps, optionally scoped, and print it once", json: true, run: tokenCreate},
		{noun: "token", verb: "list", args: "--tenant TENANT", summary: "list a tenant's gateway tokens", json: true, run: tokenList},
		{noun: "token", verb: "revoke", args: "--tenant TENANT ID", summary: "revoke a gateway token", run: tokenRevoke},
		{noun: "token", verb: "scope", args: "--tenant TENANT ID [--providers P,..] [--models M,..] [--daily-usd USD] [--monthly-usd USD] [--daily-tokens N] [--monthly-tokens N] [--rpm N] [--tpm N] | --clear", summary: "replace a gateway token's scope: what it may call and spend inside its tenant's", json: true, run: tokenScope},

		{noun: "policy", verb: "get", args: "--tenant TENANT", summary: "show which keys a tenant's calls may use, per provider", json: true, run: policySetting().show},
		{noun: "policy", verb: "set", args: "--tenant TENANT [--provider P] [--mode M] [--allow-request-keys=true|false] [--fallback-on-error=true|false] [--clear]", summary: "change the default or one provider's rule of a tenant's policy", json: true, run: policySet},

		{noun: "budget", verb: "get", args: "--tenant TENANT", summary: "show a tenant's budget: spending and token limits per UTC day and month", json: true, run: budgetSetting().show},
		{noun: "budget", verb: "set", args: "--tenant TENANT [--daily-usd USD|none] [--monthly-usd USD|none] [--daily-tokens N|none] [--monthly-tokens N|none] [--per-user-daily-usd USD|none] [--per-user-daily-tokens N|none] [--hard=true|false] [--applies-to platform|all] [--byok-billing skip|meter] [--clear-daily-usd]...", summary: "change the given fields of a tenant's budget (platform admins)", json: true, run: budgetSet},

		{noun: "limits", verb: "get", args: "--tenant TENANT", summary: "show a tenant's rate limits, per provider (* for all together)", json: true, run: limitsSetting().show},
		{noun: "limits", verb: "set", args: "--tenant TENANT [--provider P] [--rpm N] [--tpm N] [--applies-to platform|all] [--clear]", summary: "change or remove one of a tenant's rate limits (platform admins)", json: true, run: limitsSet},

		{noun: "usage", args: "[--tenant T | --all] [--from TIME | --since DURATION] [--to TIME] [--user ID] [--group-by provider,model,key_source,user,day,token]", summary: "show usage and cost, platform-paid and tenant-paid", json: true, run: usageReport},

		{noun: "whoami", summary: "show who the token is", json: true, run: whoami},

		{noun: "version", summary: "print the version, commit and build date of this binary", json: true, local: true, run: versionCmd},
		{noun: "healthcheck", args: "[--url URL] [--timeout DURATION]", summary: "exit 0 when the local server answers /readyz, 1 when not (for container health checks)", local: true, run: healthcheck},
		{noun: "completion", args: "bash|zsh|fish", summary: "print the shell completion script of keygate for bash, zsh or fish", local: true, run: completion},

		{noun: "dev", verb: "fake-provider", args: "[--addr HOST:PORT] [--revoke KEY]... [--delay DURATION]", summary: "serve a fake of every provider for demos and load tests (no keygate server needed)", run: devFakeProvider},
	}
}

// run dispatches args to a command.
func (c *cli) run(ctx context.Context, args []string) error {
	// Global flags may come before the noun: keygate --addr URL tenant list.
	gfs := flag.NewFlagSet("keygate", flag.ContinueOnError)
	gfs.SetOutput(io.Discard)
	gfs.StringVar(&c.addr, "addr", "", "")
	gfs.StringVar(&c.token, "token", "", "")
	gfs.BoolVar(&c.jsonOut, "json", false, "")
	if err := gfs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c.printUsage(c.stdout)
		}
		return usageError{err}
	}
	args = gfs.Args()
	if len(args) == 0 {
		_ = c.printUsage(c.stderr)
		return usagef("no command given")
	}
	noun, rest := args[0], args[1:]
	switch noun {
	case "help":
		return c.help(ctx, rest)
	}
	cmds := commands()
	var verbs []*command
	for _, cmd := range cmds {
		if cmd.noun == noun {
			verbs = append(verbs, cmd)
		}
	}
	if len(verbs) == 0 {
		return usagef("unknown command %q", noun)
	}
	if len(verbs) == 1 && verbs[0].verb == "" {
		return c.exec(ctx, verbs[0], rest)
	}
	// `keygate audit [flags]` is `keygate audit list [flags]`.
	if noun == "audit" && (len(rest) == 0 || strings.HasPrefix(rest[0], "-") && !isHelpFlag(rest[0])) {
		return c.exec(ctx, verbs[0], rest)
	}
	if len(rest) == 0 || isHelpFlag(rest[0]) {
		if len(rest) == 0 {
			_ = c.printNounUsage(c.stderr, noun)
			return usagef("%s: no subcommand given", noun)
		}
		return c.printNounUsage(c.stdout, noun)
	}
	verb := rest[0]
	for _, cmd := range verbs {
		if cmd.verb == verb {
			return c.exec(ctx, cmd, rest[1:])
		}
	}
	return usagef("unknown command %q", noun+" "+verb)
}

func isHelpFlag(s string) bool {
	switch s {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// exec runs cmd; --help has printed the command's usage and is not an error.
func (c *cli) exec(ctx context.Context, cmd *command, args []string) error {
	err := cmd.run(ctx, c, cmd, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	var ae *client.Error
	if errors.As(err, &ae) && ae.Status == 0 && ae.Code() == keygate.CodeUnavailable && !errors.Is(err, context.Canceled) {
		return &cliError{code: keygate.CodeUnavailable, exit: exitFailure,
			msg: fmt.Sprintf("cannot reach the keygate server at %s (is it running? set KEYGATE_ADDR or --addr): %v", c.server, ae.Err)}
	}
	if keygate.IsCode(err, keygate.CodeUnauthorized) && c.tokenValue() == "" {
		_, msg, _ := describe(err)
		return &cliError{code: keygate.CodeUnauthorized, exit: exitUnauthorized,
			msg: fmt.Sprintf("%s No admin token is set: export KEYGATE_TOKEN=kga_...", msg)}
	}
	return err
}

// tokenValue returns the admin token: --token, else KEYGATE_TOKEN.
func (c *cli) tokenValue() string {
	if c.token != "" {
		return c.token
	}
	return strings.TrimSpace(c.getenv("KEYGATE_TOKEN"))
}

// client returns an API client for the configured server and token.
func (c *cli) client() (*client.Client, error) {
	addr := c.addr
	if addr == "" {
		addr = strings.TrimSpace(c.getenv("KEYGATE_ADDR"))
	}
	if addr == "" {
		addr = defaultAddr
	}
	if c.token != "" {
		fmt.Fprintln(c.stderr, "keygate: warning: --token is visible to other users of this machine (ps, shell history); prefer KEYGATE_TOKEN")
	}
	token := c.tokenValue()
	api, err := client.New(addr, keygate.NewSecret(token), client.WithUserAgent("keygate-cli/"+version.Get().Version))
	if err != nil {
		return nil, usagef("--addr / KEYGATE_ADDR: %v", err)
	}
	c.server = api.BaseURL()
	if u, err := url.Parse(addr); err == nil && u.Scheme == "http" && token != "" && !isLoopback(u.Hostname()) {
		fmt.Fprintf(c.stderr, "keygate: warning: sending the admin token to %s without TLS\n", u.Host)
	}
	return api, nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
