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
