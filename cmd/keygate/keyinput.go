package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/keygate/keygate"
	"golang.org/x/term"
)

// maxKeyBytes bounds a provider key read from standard input. Real keys are
// under 200 bytes; service-account JSON documents a few kilobytes.
const maxKeyBytes = 32 << 10

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
