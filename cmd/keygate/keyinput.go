// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"golang.org/x/term"
)

// maxKeyBytes bounds a provider key read from standard input. Real keys are
// under 200 bytes; service-account JSON documents a few kilobytes.
const maxKeyBytes = 32 << 10

// keyInput is what a command that sends a provider key (key set, key test)
// was given.
type keyInput struct {
	owner    string         // the API owner: a tenant, or the platform scope
	display  string         // the owner in messages: "tenant acme", "the platform"
	provider string         // --provider
	key      keygate.Secret // the caller wipes it
}

// readKeyInput parses the flags of a command that sends a provider key,
// (--tenant TENANT | --platform) --provider PROVIDER and those bind adds
// (bind may be nil), refusing anything in args that could be the key (see
// checkKeyArgs). Once the flags are right it connects, then reads the key
// (what names it in the prompt, e.g. "key to test"). Usage errors come
// before either.
func (c *cli) readKeyInput(cmd *command, args []string, what string, bind func(fs *flag.FlagSet)) (*client.Client, keyInput, error) {
	fs := c.flagSet(cmd)
	var o ownerFlags
	o.bind(fs)
	provider := fs.String("provider", "", "the provider, e.g. openai (required)")
	if bind != nil {
		bind(fs)
	}
	if err := checkKeyArgs(cmd, fs, args); err != nil {
		return nil, keyInput{}, err
	}
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return nil, keyInput{}, err
	}
	if len(pos) > 0 {
		return nil, keyInput{}, errKeyInArgs(cmd)
	}
	in := keyInput{provider: *provider}
	if in.owner, in.display, err = o.owner(cmd); err != nil {
		return nil, keyInput{}, err
	}
	if in.provider == "" {
		return nil, keyInput{}, usagef("%s: --provider PROVIDER is required", cmd.name())
	}
	api, err := c.client()
	if err != nil {
		return nil, keyInput{}, err
	}
	if in.key, err = c.readKey(cmd, fmt.Sprintf("%s %s for %s (input hidden): ", in.provider, what, in.display)); err != nil {
		return nil, keyInput{}, err
	}
	return api, in, nil
}

// checkKeyArgs refuses anything in args that is not one of the flags of fs,
// the flag set of a command that reads a key, before the flag package sees
// it: an unknown flag's name, a stray argument or a boolean flag's odd value
// could be the key, and must not be echoed in an error.
func checkKeyArgs(cmd *command, fs *flag.FlagSet, args []string) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			if a == "--" && i == len(args)-1 {
				continue
			}
			return errKeyInArgs(cmd)
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := fs.Lookup(name)
		switch {
		case name == "h" || name == "help" || f != nil && isBoolFlag(f):
			// --platform=<anything but a boolean> would be echoed by the
			// flag package.
			if hasValue && value != "true" && value != "false" {
				return errKeyInArgs(cmd)
			}
		case f != nil:
			if !hasValue {
				i++ // its value
			}
		default:
			return errKeyInArgs(cmd)
		}
	}
	return nil
}

// isBoolFlag reports whether f takes no value (--name for true), as the
// flag package decides it.
func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// readKey reads the provider key of cmd (key set, key test): from a no-echo
// prompt when standard input is a terminal, else all of standard input minus
// one trailing newline ("\n" or "\r\n"). It never echoes the key. An empty
// key is a usage error; one over maxKeyBytes is body_too_large.
func (c *cli) readKey(cmd *command, prompt string) (keygate.Secret, error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		defer clear(b)
		if err != nil {
			return keygate.Secret{}, fmt.Errorf("read the key from the terminal: %w", err)
		}
		if len(b) == 0 {
			return keygate.Secret{}, usagef("%s: no key entered", cmd.name())
		}
		return keygate.NewSecretBytes(b), nil
	}
	if c.stdin == nil {
		return keygate.Secret{}, errNoKey(cmd)
	}
	// One fixed buffer, wiped afterwards: io.ReadAll would leave copies of
	// the key in the buffers it outgrows.
	buf := make([]byte, maxKeyBytes+1)
	defer clear(buf)
	n, err := io.ReadFull(c.stdin, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return keygate.Secret{}, fmt.Errorf("read the key from standard input: %w", err)
	}
	if n > maxKeyBytes {
		return keygate.Secret{}, &cliError{code: keygate.CodeBodyTooLarge, exit: exitInvalid,
			msg: fmt.Sprintf("%s: standard input holds more than %d bytes; it must hold only the key", cmd.name(), maxKeyBytes)}
	}
	b := buf[:n]
	if bytes.HasSuffix(b, []byte("\r\n")) {
		b = b[:len(b)-2]
	} else if bytes.HasSuffix(b, []byte("\n")) {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return keygate.Secret{}, errNoKey(cmd)
	}
	return keygate.NewSecretBytes(b), nil
}

func errNoKey(cmd *command) error {
	return usagef(`%s: no key on standard input: pipe it in, e.g. printf '%%s' "$OPENAI_API_KEY" | keygate %s --tenant acme --provider openai`, cmd.name(), cmd.name())
}
