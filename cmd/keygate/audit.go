// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/keygate/keygate/internal/client"
)

// auditFilterFlags are the filter flags that audit list and audit export
// share.
type auditFilterFlags struct {
	f            client.AuditFilter
	since, until string
}

func (a *auditFilterFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&a.f.Tenant, "tenant", "", "events of this tenant (id or name; a deleted tenant by its tn_ id), or \"platform\" for platform keys and the master key; default: all (platform admins)")
	fs.StringVar(&a.f.Provider, "provider", "", "only events about this provider")
	fs.StringVar(&a.f.Action, "action", "", "only this action, e.g. key.rotated")
	fs.StringVar(&a.since, "since", "", "from this time on: RFC 3339, a date, or a duration ago such as 24h or 7d")
	fs.StringVar(&a.until, "until", "", "before this time (same forms as --since)")
}

// filter returns the filter the flags give, --since and --until resolved
// against now, or a usage error for a time it cannot read.
func (a *auditFilterFlags) filter(cmd *command, now time.Time) (client.AuditFilter, error) {
	f := a.f
	var err error
	if f.Since, err = parseTime(a.since, now); err != nil {
		return f, usagef("%s: --since: %v", cmd.name(), err)
	}
	if f.Until, err = parseTime(a.until, now); err != nil {
		return f, usagef("%s: --until: %v", cmd.name(), err)
	}
	return f, nil
}

func auditList(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var (
		af  auditFilterFlags
		all bool
	)
	af.bind(fs)
	fs.IntVar(&af.f.Limit, "limit", 0, "events per page (default: the server's, 100)")
	fs.Int64Var(&af.f.Before, "before", 0, "only events with a sequence number below this (paging)")
	fs.BoolVar(&all, "all", false, "follow the pages to the oldest matching event")
	if _, err := c.parseArgs(cmd, fs, args, 0, ""); err != nil {
		return err
	}
	f, err := af.filter(cmd, c.now())
	if err != nil {
		return err
	}
	if f.Limit < 0 || f.Before < 0 {
		return usagef("%s: --limit and --before must not be negative", cmd.name())
	}
	return request(c, func(api *client.Client) (client.AuditPage, error) {
		if !all {
			page, err := api.ListAudit(ctx, f)
			page.Events = nonNil(page.Events)
			return page, err
		}
		page := client.AuditPage{Events: []client.AuditEvent{}}
		for ev, err := range api.AllAudit(ctx, f) {
			if err != nil {
				return page, err
			}
			page.Events = append(page.Events, ev)
		}
		return page, nil
	}, view[client.AuditPage]{text: func(w io.Writer, page client.AuditPage) error {
		tb := newTable(w, "TIME", "ACTION", "TENANT", "PROVIDER", "VERSION", "HINT", "ACTOR")
		for _, ev := range page.Events {
			actor := ev.Actor.Name
			if actor == "" {
				actor = ev.Actor.ID
			}
			tb.row(fmtTime(ev.Time), ev.Action, string(ev.Tenant), ev.Provider, fmtInt(int64(ev.Version)), ev.Hint, actor)
		}
		if err := tb.flush(); err != nil {
			return err
		}
		if page.NextBefore > 0 {
			fmt.Fprintf(c.stderr, "keygate: more events: add --before %d for the next page, or --all\n", page.NextBefore)
		}
		return nil
	}})
}

func auditVerify(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	cpFile := fs.String("checkpoint", "", "a checkpoint file (keygate audit checkpoint, or serve --audit-checkpoint-file): the trail must still hold its event")
	if _, err := c.parseArgs(cmd, fs, args, 0, ""); err != nil {
		return err
	}
	var cp *client.AuditCheckpoint
	if *cpFile != "" {
		b, err := os.ReadFile(*cpFile)
		if err != nil {
			return usagef("%s: --checkpoint: %v", cmd.name(), err)
		}
		cp = new(client.AuditCheckpoint)
		if err := json.Unmarshal(b, cp); err != nil {
			return usagef("%s: --checkpoint: %s is not a checkpoint: %v", cmd.name(), *cpFile, err)
		}
	}
	return request(c, func(api *client.Client) (client.AuditVerification, error) {
		if cp != nil {
			return api.VerifyAuditCheckpoint(ctx, *cp)
		}
		return api.VerifyAudit(ctx)
	}, view[client.AuditVerification]{
		text: func(w io.Writer, v client.AuditVerification) error {
			status := "ok"
			if !v.OK {
				status = "BROKEN"
			}
			return fields(w, "chain", status, "events", strconv.FormatInt(v.Events, 10),
				"head seq", strconv.FormatInt(v.HeadSeq, 10), "head hash", v.HeadHash, "error", v.Error)
		},
		verdict: func(v client.AuditVerification) error {
			if !v.OK {
				return &cliError{code: "audit_chain_broken", exit: exitFailure, msg: "the audit chain is broken: " + v.Error}
			}
			return nil
		},
	})
}

// auditCheckpoint prints a signed checkpoint of the trail's head as one
// JSON object, to be kept where the database's administrators cannot write
// and given back to audit verify --checkpoint.
func auditCheckpoint(ctx context.Context, c *cli, cmd *command, args []string) error {
	if _, err := c.parseArgs(cmd, c.flagSet(cmd), args, 0, ""); err != nil {
		return err
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	cp, err := api.AuditCheckpoint(ctx)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(cp)
}

// exportPageSize is the page size of audit export: the API's maximum, so a
// long export makes few requests.
const exportPageSize = 1000

// auditExport is `keygate audit export`: every matching event, newest first,
// one JSON object per line (JSON Lines), written as each page arrives so an
// export of any size runs in constant memory. A failure part-way exits
// non-zero after the events already written.
func auditExport(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var af auditFilterFlags
	af.bind(fs)
	format := fs.String("format", "jsonl", "output format; jsonl (one JSON object per line) is the only one")
	if _, err := c.parseArgs(cmd, fs, args, 0, ""); err != nil {
		return err
	}
	if *format != "jsonl" {
		return usagef("%s: --format %q is not supported: jsonl is the only format", cmd.name(), *format)
	}
	f, err := af.filter(cmd, c.now())
	if err != nil {
		return err
	}
	f.Limit = exportPageSize
	api, err := c.client()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	n := 0
	for ev, err := range api.AllAudit(ctx, f) {
		if err != nil {
			if n > 0 {
				fmt.Fprintf(c.stderr, "keygate: export stopped after %d events\n", n)
			}
			return err
		}
		if err := enc.Encode(ev); err != nil {
			return fmt.Errorf("write event %d: %w", ev.Seq, err)
		}
		n++
	}
	return nil
}
