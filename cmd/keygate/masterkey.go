// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/keygate/keygate/internal/client"
)

func masterKeyStatus(ctx context.Context, c *cli, cmd *command, args []string) error {
	if _, err := c.parseArgs(cmd, c.flagSet(cmd), args, 0, ""); err != nil {
		return err
	}
	return request(c, func(api *client.Client) (client.MasterKey, error) {
		return api.MasterKeyStatus(ctx)
	}, view[client.MasterKey]{text: func(w io.Writer, m client.MasterKey) error {
		return fields(w, "primary", m.Primary, "kind", m.Kind, "pending rewrap", strconv.FormatInt(m.PendingRewrap, 10))
	}})
}

func masterKeyRotate(ctx context.Context, c *cli, cmd *command, args []string) error {
	if _, err := c.parseArgs(cmd, c.flagSet(cmd), args, 0, ""); err != nil {
		return err
	}
	return request(c, func(api *client.Client) (client.MasterKeyRotation, error) {
		return api.RotateMasterKey(ctx)
	}, view[client.MasterKeyRotation]{text: func(w io.Writer, r client.MasterKeyRotation) error {
		_, err := fmt.Fprintf(w, "rotated master key %s -> %s; %d data keys pending rewrap (see keygate master-key status)\n", r.Previous, r.Primary, r.PendingRewrap)
		return err
	}})
}

func masterKeyRetire(ctx context.Context, c *cli, cmd *command, args []string) error {
	pos, err := c.parseArgs(cmd, c.flagSet(cmd), args, 1, "the id of the master key to retire (mk_...; see keygate master-key status)")
	if err != nil {
		return err
	}
	return request(c, func(api *client.Client) (client.MasterKeyRetirement, error) {
		return api.RetireMasterKey(ctx, pos[0])
	}, view[client.MasterKeyRetirement]{text: func(w io.Writer, r client.MasterKeyRetirement) error {
		_, err := fmt.Fprintf(w, "retired master key %s: it is gone from the key file; everything is wrapped by %s\n", r.Retired, r.Primary)
		return err
	}})
}
