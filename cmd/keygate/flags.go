// SPDX-License-Identifier: Apache-2.0

package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// flagSet returns the flag set of cmd with the global flags (--addr,
// --token, and --json for commands that print objects) bound to c.
func (c *cli) flagSet(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet("keygate "+cmd.name(), flag.ContinueOnError)
	// Errors are returned and printed once by report; help goes to stdout.
	fs.SetOutput(new(strings.Builder))
	if cmd.local {
		if cmd.json {
			fs.BoolVar(&c.jsonOut, "json", c.jsonOut, "print the answer as one JSON document")
		}
		return fs
	}
	fs.StringVar(&c.addr, "addr", c.addr, "server address (default $KEYGATE_ADDR, else "+defaultAddr+")")
	fs.StringVar(&c.token, "token", c.token, "admin token (default $KEYGATE_TOKEN; a flag is visible in ps, prefer the variable)")
	if cmd.json {
		fs.BoolVar(&c.jsonOut, "json", c.jsonOut, "print the API object(s) as one JSON document")
	}
	return fs
}

// parse parses args with fs, letting flags come before or after positional
// arguments ("--" ends the flags), and returns the positional arguments. On
// -h/--help it prints the command's usage to stdout and returns
// flag.ErrHelp; other failures are usage errors.
func (c *cli) parse(cmd *command, fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				c.printCommandUsage(cmd, fs)
				return nil, flag.ErrHelp
			}
			return nil, usagef("%s: %v", cmd.name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// printCommandUsage prints the usage of cmd and its flags to stdout.
func (c *cli) printCommandUsage(cmd *command, fs *flag.FlagSet) {
	synopsis := strings.TrimSpace("keygate " + cmd.name() + " " + cmd.args)
	fmt.Fprintf(c.stdout, "Usage: %s\n\n%s.\n\nFlags:\n", synopsis, capitalize(cmd.summary))
	if c.onUsage != nil {
		c.onUsage(fs)
	}
	fs.SetOutput(c.stdout)
	fs.PrintDefaults()
	fmt.Fprint(c.stdout, "\nExit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 unauthorized or forbidden, 5 conflict, 6 invalid input.\n")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// wantArgs returns a usage error unless pos has exactly n arguments, naming
// what they are.
func wantArgs(cmd *command, pos []string, n int, what string) error {
	switch {
	case len(pos) < n:
		return usagef("%s: missing %s", cmd.name(), what)
	case len(pos) > n:
		return usagef("%s: unexpected argument %q (flags such as --byok take their value after '=', e.g. --byok=false)", cmd.name(), pos[n])
	}
	return nil
}

// optionalBool is a boolean flag that remembers whether it was given, so
// that "not given" leaves the server's value. It accepts --name (true) and
// --name=true|false.
type optionalBool struct {
	set   bool
	value bool
}

func (b *optionalBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.value)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false")
	}
	b.set, b.value = true, v
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }

// ptr returns the value as a pointer, nil when the flag was not given.
func (b *optionalBool) ptr() *bool {
	if !b.set {
		return nil
	}
	v := b.value
	return &v
}

// parseTime parses a --since/--until value: an RFC 3339 time, a date
// (2006-01-02, UTC midnight), or a duration before now ("90m", "24h", "7d").
func parseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a date (2006-01-02) or a duration such as 24h or 7d", s)
}
