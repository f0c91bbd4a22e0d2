// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/keygate/keygate/internal/client"
)

// setting is one of a tenant's settings objects that the API reads and
// replaces whole (the budget, the rate limits, the policy): how the CLI gets,
// puts, compares and prints it. get and put are methods of client.Client
// taken as method expressions, hence the client first.
type setting[T any] struct {
	get  func(api *client.Client, ctx context.Context, tenant string) (T, error)
	put  func(api *client.Client, ctx context.Context, tenant string, v T) (T, error)
	same func(a, b T) bool // whether a and b say the same, ignoring tenant and timestamps
	view view[T]
	// unchanged is what set says on standard error when the object already
	// says what was asked (%s: the tenant), e.g. "the policy of tenant %s
	// already says so".
	unchanged string
}

// change is what `keygate <noun> set` was asked to change, as its flags
// filled it in.
type change[T any] interface {
	// target returns the tenant (id or name) whose object to change.
	target() string
	// check returns a usage error for a change that is empty or
	// contradictory. It may normalize the change (--provider * is "").
	check(cmd *command) error
	// apply returns v with the change made, or an error for a change that
	// v makes impossible (--clear of something v does not have).
	apply(v T) (T, error)
}

// show is `keygate <noun> get --tenant TENANT`: it prints the tenant's
// object.
func (s setting[T]) show(ctx context.Context, c *cli, cmd *command, args []string) error {
	tenant, err := c.parseTenant(cmd, c.flagSet(cmd), args, tenantUsage)
	if err != nil {
		return err
	}
	return request(c, func(api *client.Client) (T, error) { return s.get(api, ctx, tenant) }, s.view)
}

// set is `keygate <noun> set`: it parses args with fs, to which the command
// has bound the flags that fill in ch, checks ch, then reads the tenant's
// object, changes it, writes it back and prints what the server stored.
// When the change leaves the object as it was, it says so and writes
// nothing. The API has no compare-and-swap: two concurrent runs can
// overwrite each other's change.
func (s setting[T]) set(ctx context.Context, c *cli, cmd *command, fs *flag.FlagSet, args []string, ch change[T]) error {
	if _, err := c.parseArgs(cmd, fs, args, 0, ""); err != nil {
		return err
	}
	if err := ch.check(cmd); err != nil {
		return err
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	tenant := ch.target()
	cur, err := s.get(api, ctx, tenant)
	if err != nil {
		return err
	}
	next, err := ch.apply(cur)
	if err != nil {
		return err
	}
	if s.same(cur, next) {
		fmt.Fprintf(c.stderr, s.unchanged+"; nothing changed\n", tenant)
		return s.view.print(c, cur)
	}
	stored, err := s.put(api, ctx, tenant, next)
	if err != nil {
		return err
	}
	return s.view.print(c, stored)
}
