package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/keygate/keygate/internal/client"
)

func auditList(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var (
		f            client.AuditFilter
		since, until string
		all          bool
	)
	fs.StringVar(&f.Tenant, "tenant", "", "events of this tenant (id or name), or \"platform\" for platform keys and the master key; default: all (platform admins)")
	fs.StringVar(&f.Provider, "provider", "", "only events about this provider")
	fs.StringVar(&f.Action, "action", "", "only this action, e.g. key.rotated")
	fs.StringVar(&since, "since", "", "from this time on: RFC 3339, a date, or a duration ago such as 24h or 7d")
	fs.StringVar(&until, "until", "", "before this time (same forms as --since)")
	fs.IntVar(&f.Limit, "limit", 0, "events per page (default: the server's, 100)")
	fs.Int64Var(&f.Before, "before", 0, "only events with a sequence number below this (paging)")
	fs.BoolVar(&all, "all", false, "follow the pages to the oldest matching event")
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, pos, 0, ""); err != nil {
		return err
	}
	now := c.now()
	if f.Since, err = parseTime(since, now); err != nil {
		return usagef("%s: --since: %v", cmd.name(), err)
	}
	if f.Until, err = parseTime(until, now); err != nil {
		return usagef("%s: --until: %v", cmd.name(), err)
	}
	if f.Limit < 0 || f.Before < 0 {
		return usagef("%s: --limit and --before must not be negative", cmd.name())
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	page := client.AuditPage{Events: []client.AuditEvent{}}
	if all {
		for ev, err := range api.AllAudit(ctx, f) {
			if err != nil {
				return err
			}
			page.Events = append(page.Events, ev)
		}
	} else {
		if page, err = api.ListAudit(ctx, f); err != nil {
			return err
		}
		if page.Events == nil {
			page.Events = []client.AuditEvent{}
		}
	}
	if c.jsonOut {
		return writeJSON(c.stdout, page)
	}
	tb := newTable(c.stdout, "TIME", "ACTION", "TENANT", "PROVIDER", "VERSION", "HINT", "ACTOR")
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
}

func auditVerify(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, pos, 0, ""); err != nil {
		return err
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	v, err := api.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if c.jsonOut {
		err = writeJSON(c.stdout, v)
	} else {
		status := "ok"
		if !v.OK {
			status = "BROKEN"
		}
		err = fields(c.stdout, "chain", status, "events", strconv.FormatInt(v.Events, 10),
			"head seq", strconv.FormatInt(v.HeadSeq, 10), "head hash", v.HeadHash, "error", v.Error)
	}
	if err != nil {
		return err
	}
	if !v.OK {
		return &cliError{code: "audit_chain_broken", exit: exitFailure, msg: "the audit chain is broken: " + v.Error}
	}
	return nil
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
	var (
		f            client.AuditFilter
		since, until string
		format       string
	)
	fs.StringVar(&f.Tenant, "tenant", "", "events of this tenant (id or name), or \"platform\" for platform keys and the master key; default: all (platform admins)")
	fs.StringVar(&f.Provider, "provider", "", "only events about this provider")
	fs.StringVar(&f.Action, "action", "", "only this action, e.g. key.rotated")
	fs.StringVar(&since, "since", "", "from this time on: RFC 3339, a date, or a duration ago such as 24h or 7d")
	fs.StringVar(&until, "until", "", "before this time (same forms as --since)")
	fs.StringVar(&format, "format", "jsonl", "output format; jsonl (one JSON object per line) is the only one")
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, pos, 0, ""); err != nil {
		return err
	}
	if format != "jsonl" {
		return usagef("%s: --format %q is not supported: jsonl is the only format", cmd.name(), format)
	}
	now := c.now()
	if f.Since, err = parseTime(since, now); err != nil {
		return usagef("%s: --since: %v", cmd.name(), err)
	}
	if f.Until, err = parseTime(until, now); err != nil {
		return usagef("%s: --until: %v", cmd.name(), err)
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
