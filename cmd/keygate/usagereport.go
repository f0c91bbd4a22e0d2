// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/keygate/keygate/internal/client"
)

// usageReport is `keygate usage [--tenant T | --all]`: a usage report as a
// table, its columns the grouping's then the counts, with the platform-paid
// and tenant-paid totals below. Without a flag it reports the token's own
// tenant, or, for a platform admin, the whole platform.
func usageReport(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var (
		q                   client.UsageQuery
		all                 bool
		from, to, since, gb string
	)
	fs.StringVar(&q.User, "user", "", "only the calls of this end user (the id a call named by user, metadata.user_id or X-Keygate-User)")
	fs.StringVar(&q.Tenant, "tenant", "", "the tenant (id or name) whose usage to show")
	fs.BoolVar(&all, "all", false, "every tenant's usage, platform-wide (platform admins)")
	fs.StringVar(&from, "from", "", "from this time on: RFC 3339, a date (UTC midnight), or a duration ago such as 7d (default: 30 days ago)")
	fs.StringVar(&to, "to", "", "before this time, exclusive (same forms as --from; default: now)")
	fs.StringVar(&since, "since", "", "a duration ago such as 24h or 7d: the same as --from")
	fs.StringVar(&gb, "group-by", "", "rows per these dimensions, comma-separated: provider, model, key_source, user, day, token, and tenant with --all (default: one row of totals)")
	if _, err := c.parseArgs(cmd, fs, args, 0, ""); err != nil {
		return err
	}
	switch {
	case q.Tenant != "" && all:
		return usagef("%s: give at most one of --tenant and --all", cmd.name())
	case from != "" && since != "":
		return usagef("%s: give at most one of --from and --since", cmd.name())
	}
	if since != "" {
		from = since
	}
	now := c.now()
	var err error
	if q.From, err = parseTime(from, now); err != nil {
		return usagef("%s: --from: %v", cmd.name(), err)
	}
	if q.To, err = parseTime(to, now); err != nil {
		return usagef("%s: --to: %v", cmd.name(), err)
	}
	if gb != "" {
		for _, d := range strings.Split(gb, ",") {
			if d = strings.TrimSpace(d); d != "" {
				q.GroupBy = append(q.GroupBy, d)
			}
		}
	}
	return request(c, func(api *client.Client) (client.UsageReport, error) {
		if q.Tenant == "" && !all {
			// No flag: the token's own tenant, else (a platform admin) the
			// platform-wide report.
			id, err := api.WhoAmI(ctx)
			if err != nil {
				return client.UsageReport{}, err
			}
			q.Tenant = string(id.Tenant)
		}
		return api.Usage(ctx, q)
	}, view[client.UsageReport]{text: usageReportText})
}

// usageReportText prints the rows of rep as a table and its totals below.
func usageReportText(w io.Writer, rep client.UsageReport) error {
	header := make([]string, 0, len(rep.GroupBy)+5)
	for _, d := range rep.GroupBy {
		header = append(header, strings.ToUpper(d))
	}
	tb := newTable(w, append(header, "REQUESTS", "INPUT", "OUTPUT", "COST", "BILLABLE", "PRICED")...)
	for _, r := range rep.Rows {
		cells := make([]string, 0, len(header)+5)
		for _, d := range rep.GroupBy {
			cells = append(cells, usageDimension(r, d))
		}
		tb.row(append(cells, strconv.FormatInt(r.Requests, 10), strconv.FormatInt(r.InputTokens, 10),
			strconv.FormatInt(r.OutputTokens, 10), fmtUSD(r.CostUSD), fmtUSD(r.BillableCostUSD), pricedCell(r))...)
	}
	if err := tb.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	kv := []string{
		"period", fmtTime(rep.From) + " to " + fmtTime(rep.To),
		"platform-paid", usageTotals(rep.PlatformPaid),
		"tenant-paid", usageTotals(rep.TenantPaid),
	}
	if rep.User != "" {
		kv = append(kv, "end user", rep.User)
	}
	if rep.Tenant != "" {
		mode := rep.Mode
		if rep.BYOKBilling != "" {
			mode += " (byok billing: " + rep.BYOKBilling + ")"
		}
		kv = append(kv, "tenant", string(rep.Tenant), "mode", mode)
		if rep.Budget != nil {
			kv = append(kv, "budget", budgetSummary(*rep.Budget))
		}
	}
	return fields(w, kv...)
}

// pricedCell says how a row was priced: "priced", or "estimated (N)" /
// "unpriced (N)" with the number of calls not at their model's price.
func pricedCell(r client.UsageRow) string {
	switch {
	case r.UnpricedRequests > 0 && r.EstimatedRequests > 0:
		return fmt.Sprintf("unpriced (%d), estimated (%d)", r.UnpricedRequests, r.EstimatedRequests)
	case r.UnpricedRequests > 0:
		return fmt.Sprintf("unpriced (%d)", r.UnpricedRequests)
	case r.EstimatedRequests > 0:
		return fmt.Sprintf("estimated (%d)", r.EstimatedRequests)
	}
	return "priced"
}

// usageDimension returns the cell of dimension d in r.
func usageDimension(r client.UsageRow, d string) string {
	switch d {
	case client.GroupTenant:
		return string(r.Tenant)
	case client.GroupProvider:
		return r.Provider
	case client.GroupModel:
		return r.Model
	case client.GroupKeySource:
		return string(r.KeySource)
	case client.GroupUser:
		if r.User == "" {
			return "-" // calls that named no end user
		}
		return r.User
	case client.GroupDay:
		return r.Day
	case client.GroupToken:
		if r.Token == "" {
			return "-" // calls recorded before usage named its token
		}
		return r.Token
	}
	return ""
}

// usageTotals writes one side of the totals: "2 requests, $0.004 (30
// input + 10 output tokens)", the cost "N/A" when the server says so.
func usageTotals(t client.UsageTotals) string {
	req := "requests"
	if t.Requests == 1 {
		req = "request"
	}
	return fmt.Sprintf("%d %s, %s (%d input + %d output tokens)", t.Requests, req, fmtUSD(t.CostUSD), t.InputTokens, t.OutputTokens)
}
