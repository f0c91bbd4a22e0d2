// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

// maxModelsShown caps the model names key test prints; the count says how
// many there are.
const maxModelsShown = 10

// keyTest is `keygate key test`: it sends a candidate key to the server,
// which asks the provider about it and stores nothing. Exit 0 for valid, 6
// (key_rejected) for rejected, 1 (key_unverifiable) when the provider could
// not say.
func keyTest(ctx context.Context, c *cli, cmd *command, args []string) error {
	api, in, err := c.readKeyInput(cmd, args, "key to test", nil)
	if err != nil {
		return err
	}
	defer in.key.Wipe()
	res, err := api.TestKey(ctx, in.owner, in.provider, in.key)
	if err != nil {
		return err
	}
	return view[client.KeyTestResult]{
		json: func(r client.KeyTestResult) any {
			return client.KeyTestResults{Results: map[string]client.KeyTestResult{in.provider: r}}
		},
		text: func(w io.Writer, r client.KeyTestResult) error {
			return fields(w,
				"provider", in.provider,
				"hint", in.key.Hint(),
				"status", string(r.Status),
				"models", modelSummary(r),
				"error", r.Error)
		},
		verdict: func(r client.KeyTestResult) error {
			switch r.Status {
			case client.KeyTestValid:
				return nil
			case client.KeyTestRejected:
				return &cliError{code: keygate.CodeKeyRejected, exit: exitInvalid, msg: fmt.Sprintf("the %s key was rejected: %s", in.provider, r.Error)}
			case client.KeyTestUnverifiable:
				return &cliError{code: codeKeyUnverifiable, exit: exitFailure, msg: fmt.Sprintf("the %s key could not be verified: %s", in.provider, r.Error)}
			}
			return &cliError{code: keygate.CodeInternal, exit: exitFailure, msg: fmt.Sprintf("the server answered an unknown test status %q", r.Status)}
		},
	}.print(c, res)
}

// modelSummary is the models line of key test: the count, then up to
// maxModelsShown names ("12: a, b, ..., +2 more"); "" when the provider
// listed none.
func modelSummary(r client.KeyTestResult) string {
	n := max(r.ModelCount, len(r.Models))
	if n == 0 {
		return ""
	}
	names := r.Models[:min(len(r.Models), maxModelsShown)]
	s := strconv.Itoa(n)
	if len(names) > 0 {
		s += ": " + strings.Join(names, ", ")
	}
	if more := n - len(names); more > 0 && len(names) > 0 {
		s += fmt.Sprintf(", +%d more", more)
	}
	return s
}

// keyVersions is `keygate key versions`.
func keyVersions(ctx context.Context, c *cli, cmd *command, args []string) error {
	owner, _, provider, err := c.ownerProviderFlags(cmd, args)
	if err != nil {
		return err
	}
	return request(c, func(api *client.Client) ([]client.KeyVersion, error) {
		return api.ListKeyVersions(ctx, owner, provider)
	}, view[[]client.KeyVersion]{
		json: func(vs []client.KeyVersion) any { return client.KeyVersionList{Versions: nonNil(vs)} },
		text: func(w io.Writer, vs []client.KeyVersion) error {
			tb := newTable(w, "VERSION", "CURRENT", "HINT", "FINGERPRINT", "CREATED", "SUPERSEDED", "DESTROYED")
			for _, v := range vs {
				current := ""
				if v.Current {
					current = "yes"
				}
				tb.row(strconv.Itoa(v.Version), current, v.Hint, v.Fingerprint, fmtTime(v.CreatedAt), fmtTimePtr(v.SupersededAt), fmtTimePtr(v.DestroyedAt))
			}
			return tb.flush()
		},
	})
}

// keyRollback is `keygate key rollback`; a conflict (nothing to restore)
// exits 5.
func keyRollback(ctx context.Context, c *cli, cmd *command, args []string) error {
	owner, display, provider, err := c.ownerProviderFlags(cmd, args)
	if err != nil {
		return err
	}
	return request(c, func(api *client.Client) (client.Key, error) {
		return api.RollbackKey(ctx, owner, provider)
	}, view[client.Key]{text: func(w io.Writer, k client.Key) error {
		_, err := fmt.Fprintf(w, "rolled back %s key of %s to version %d, hint %s, fingerprint %s\n",
			termSafe(k.Provider), termSafe(display), k.Version, termSafe(k.Hint), termSafe(k.Fingerprint))
		return err
	}})
}
