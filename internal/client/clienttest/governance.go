// SPDX-License-Identifier: Apache-2.0

package clienttest

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

// UsageEvent is one metered call in the fake's usage ledger (see
// RecordUsage).
type UsageEvent struct {
	Tenant       keygate.TenantID
	EndUser      string // "" when the call named no end user
	Provider     string
	Model        string
	Source       keygate.KeySource
	TokenID      string // the gateway token that made the call
	Time         time.Time
	InputTokens  int64
	OutputTokens int64
	// CostMicros is the call's cost in micro-USD; BillableMicros the part
	// that counts toward platform credits.
	CostMicros     int64
	BillableMicros int64
	// Priced is how the call was priced (keygate.PricedExact when empty).
	Priced string
}

// RecordUsage adds e to the usage ledger that GET .../usage reports on. A
// zero e.Time is the fake clock's now.
func (s *Server) RecordUsage(e UsageEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = s.now
	}
	s.usage = append(s.usage, e)
}

// budgetOf returns the budget of tenant id: the stored one, else no limits
// with the server's defaults.
func (s *Server) budgetOf(id keygate.TenantID) client.Budget {
	if b, ok := s.budgets[id]; ok {
		return *b
	}
	return client.Budget{Tenant: id, AppliesTo: keygate.AppliesToPlatform, BYOKBilling: keygate.BillingSkip}
}

func (s *Server) getBudget(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	t, err := s.tenantFor(r, who)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.budgetOf(t.ID), nil
}

// amount normalizes a USD decimal string as the server does ("12.50" →
// "12.5"), refusing anything but a non-negative decimal with at most six
// decimal places.
func amount(p *string) (*string, error) {
	if p == nil {
		return nil, nil
	}
	bad := errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "Amounts in USD are non-negative decimals with at most 6 decimal places, such as 12.50.")
	whole, frac, dot := strings.Cut(*p, ".")
	if whole == "" || len(frac) > 6 || (dot && frac == "") || strings.Trim(whole+frac, "0123456789") != "" {
		return nil, bad
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1e12 {
		return nil, bad
	}
	v := strconv.FormatInt(w, 10)
	if f := strings.TrimRight(frac, "0"); f != "" {
		v += "." + f
	}
	return &v, nil
}

func (s *Server) putBudget(r *http.Request, body []byte, who *client.AdminToken) (int, any, error) {
	if err := platformOnly(who); err != nil {
		return 0, nil, err
	}
	t, err := s.tenantFor(r, who)
	if err != nil {
		return 0, nil, err
	}
	var req struct {
		DailyUSD      *string `json:"daily_usd"`
		MonthlyUSD    *string `json:"monthly_usd"`
		DailyTokens   *int64  `json:"daily_tokens"`
		MonthlyTokens *int64  `json:"monthly_tokens"`
		PerUserUSD    *string `json:"per_user_daily_usd"`
		PerUserTokens *int64  `json:"per_user_daily_tokens"`
		Hard          *bool   `json:"hard"`
		AppliesTo     *string `json:"applies_to"`
		BYOKBilling   *string `json:"byok_billing"`
	}
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	now := s.now
	b := client.Budget{Tenant: t.ID, DailyTokens: req.DailyTokens, MonthlyTokens: req.MonthlyTokens, PerUserDailyTokens: req.PerUserTokens,
		AppliesTo: keygate.AppliesToPlatform, BYOKBilling: keygate.BillingSkip, UpdatedAt: &now}
	if b.DailyUSD, err = amount(req.DailyUSD); err != nil {
		return 0, nil, err
	}
	if b.MonthlyUSD, err = amount(req.MonthlyUSD); err != nil {
		return 0, nil, err
	}
	if b.PerUserDailyUSD, err = amount(req.PerUserUSD); err != nil {
		return 0, nil, err
	}
	for _, n := range []*int64{req.DailyTokens, req.MonthlyTokens, req.PerUserTokens} {
		if n != nil && *n < 0 {
			return 0, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "Token limits must not be negative.")
		}
	}
	if req.Hard != nil {
		b.Hard = *req.Hard
	}
	if req.AppliesTo != nil {
		if err := appliesTo(*req.AppliesTo); err != nil {
			return 0, nil, err
		}
		b.AppliesTo = *req.AppliesTo
	}
	if req.BYOKBilling != nil {
		if *req.BYOKBilling != keygate.BillingSkip && *req.BYOKBilling != keygate.BillingMeter {
			return 0, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "byok_billing must be skip or meter.")
		}
		b.BYOKBilling = *req.BYOKBilling
	}
	s.budgets[t.ID] = &b
	s.audit(who, client.AuditEvent{Tenant: t.ID, Action: keygate.ActionBudgetUpdated})
	return http.StatusOK, b, nil
}

func appliesTo(v string) error {
	if v != keygate.AppliesToPlatform && v != keygate.AppliesToAll {
		return errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "applies_to must be platform or all.")
	}
	return nil
}

func (s *Server) getLimits(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	t, err := s.tenantFor(r, who)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, client.RateLimits{Tenant: t.ID, Limits: append([]client.RateLimit{}, s.limits[t.ID]...)}, nil
}

func (s *Server) putLimits(r *http.Request, body []byte, who *client.AdminToken) (int, any, error) {
	if err := platformOnly(who); err != nil {
		return 0, nil, err
	}
	t, err := s.tenantFor(r, who)
	if err != nil {
		return 0, nil, err
	}
	var req struct {
		Limits []struct {
			Provider  string  `json:"provider"`
			RPM       int64   `json:"rpm"`
			TPM       int64   `json:"tpm"`
			AppliesTo *string `json:"applies_to"`
		} `json:"limits"`
	}
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	seen := map[string]bool{}
	ls := []client.RateLimit{}
	for _, l := range req.Limits {
		if _, ok := keyPrefix(l.Provider); l.Provider != "" && !ok {
			return 0, nil, errf(http.StatusBadRequest, keygate.CodeUnknownProvider, "Unknown provider %q in limits.", l.Provider)
		}
		if seen[l.Provider] {
			return 0, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "Provider %q is listed twice.", l.Provider)
		}
		seen[l.Provider] = true
		if l.RPM < 0 || l.TPM < 0 {
			return 0, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "rpm and tpm must not be negative.")
		}
		rl := client.RateLimit{Provider: l.Provider, RPM: l.RPM, TPM: l.TPM, AppliesTo: keygate.AppliesToPlatform}
		if l.AppliesTo != nil {
			if err := appliesTo(*l.AppliesTo); err != nil {
				return 0, nil, err
			}
			rl.AppliesTo = *l.AppliesTo
		}
		ls = append(ls, rl)
	}
	s.limits[t.ID] = ls
	s.audit(who, client.AuditEvent{Tenant: t.ID, Action: keygate.ActionLimitsUpdated})
	return http.StatusOK, client.RateLimits{Tenant: t.ID, Limits: append([]client.RateLimit{}, ls...)}, nil
}

// usageFor reads the query of a usage report as the server does.
func usageFor(r *http.Request, now time.Time, platform bool) (from, to time.Time, groupBy []string, err error) {
	q := r.URL.Query()
	to = now.Truncate(time.Hour).Add(time.Hour)
	from = to.AddDate(0, 0, -30)
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				return from, to, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "%s must be a date (2026-01-02) or an RFC 3339 time.", p.name)
			}
		}
		*p.dst = t.UTC()
	}
	if !to.After(from) {
		return from, to, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "to must be after from.")
	}
	groupBy = []string{}
	if v := q.Get("group_by"); v != "" {
		for _, d := range strings.Split(v, ",") {
			d = strings.TrimSpace(d)
			known := []string{client.GroupTenant, client.GroupProvider, client.GroupModel, client.GroupKeySource, client.GroupUser, client.GroupDay, client.GroupToken}
			if !slices.Contains(known, d) || (d == client.GroupTenant && !platform) {
				return from, to, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "group_by takes provider, model, key_source, user, day, token (and tenant platform-wide).")
			}
			if !slices.Contains(groupBy, d) {
				groupBy = append(groupBy, d)
			}
		}
	}
	return from, to, groupBy, nil
}

// usageMicros is a usage row while it is summed.
type usageMicros struct {
	row            client.UsageRow
	cost, billable int64
}

func (s *Server) getUsage(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	var tenant *client.Tenant
	if r.PathValue("tenant") != "" {
		t, err := s.tenantFor(r, who)
		if err != nil {
			return 0, nil, err
		}
		tenant = t
	} else if err := platformOnly(who); err != nil {
		return 0, nil, err
	}
	from, to, groupBy, err := usageFor(r, s.now, tenant == nil)
	if err != nil {
		return 0, nil, err
	}
	user := r.URL.Query().Get("user")
	if _, ok := r.URL.Query()["user"]; ok && !keygate.ValidEndUser(user) {
		return 0, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "user must be one end-user id of 1 to %d characters of A-Z, a-z, 0-9 and . _ : @ + -.", keygate.MaxEndUserLen)
	}
	groups := map[string]*usageMicros{}
	var platform, own client.UsageTotals
	var platformMicros, ownMicros int64
	for _, e := range s.usage {
		if (tenant != nil && e.Tenant != tenant.ID) || (user != "" && e.EndUser != user) || e.Time.Before(from) || !e.Time.Before(to) {
			continue
		}
		var row client.UsageRow
		var key []string
		for _, d := range groupBy {
			switch d {
			case client.GroupTenant:
				row.Tenant = e.Tenant
				key = append(key, string(e.Tenant))
			case client.GroupProvider:
				row.Provider = e.Provider
				key = append(key, e.Provider)
			case client.GroupModel:
				row.Model = e.Model
				key = append(key, e.Model)
			case client.GroupKeySource:
				row.KeySource = e.Source
				key = append(key, string(e.Source))
			case client.GroupUser:
				row.User = e.EndUser
				key = append(key, e.EndUser)
			case client.GroupDay:
				row.Day = e.Time.UTC().Format(time.DateOnly)
				key = append(key, row.Day)
			case client.GroupToken:
				row.Token = e.TokenID
				key = append(key, e.TokenID)
			}
		}
		k := strings.Join(key, "\x00")
		g, ok := groups[k]
		if !ok {
			g = &usageMicros{row: row}
			groups[k] = g
		}
		g.row.Requests++
		g.row.InputTokens += e.InputTokens
		g.row.OutputTokens += e.OutputTokens
		g.cost += e.CostMicros
		g.billable += e.BillableMicros
		switch e.Priced {
		case keygate.PricedEstimated:
			g.row.EstimatedRequests++
		case keygate.PricedNone:
			g.row.UnpricedRequests++
		}
		t, m := &own, &ownMicros
		if e.Source == keygate.SourcePlatform {
			t, m = &platform, &platformMicros
		}
		t.Requests++
		t.InputTokens += e.InputTokens
		t.OutputTokens += e.OutputTokens
		*m += e.CostMicros
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rep := client.UsageReport{From: from, To: to, GroupBy: groupBy, User: user, Rows: []client.UsageRow{}}
	for _, k := range keys {
		g := groups[k]
		g.row.CostUSD, g.row.BillableCostUSD = usd(g.cost), usd(g.billable)
		g.row.Priced = keygate.PricedExact
		switch {
		case g.row.UnpricedRequests > 0:
			g.row.Priced = keygate.PricedNone
		case g.row.EstimatedRequests > 0:
			g.row.Priced = keygate.PricedEstimated
		}
		rep.Rows = append(rep.Rows, g.row)
	}
	platform.CostUSD, own.CostUSD = usd(platformMicros), usd(ownMicros)
	if tenant != nil {
		b := s.budgetOf(tenant.ID)
		rep.Tenant, rep.Budget, rep.BYOKBilling, rep.Mode = tenant.ID, &b, b.BYOKBilling, "platform"
		hasKeys := false
		for _, k := range s.keys {
			hasKeys = hasKeys || k.Owner == tenant.ID
		}
		if tenant.BYOKEnabled && hasKeys {
			rep.Mode = "byok"
			if b.BYOKBilling != keygate.BillingMeter && platform.Requests == 0 {
				platform.CostUSD = "N/A"
			}
		}
	}
	rep.PlatformPaid, rep.TenantPaid = platform, own
	return http.StatusOK, rep, nil
}

// usd formats micro-USD as the server does: a decimal string without
// trailing zeros.
func usd(micros int64) string {
	s := strconv.FormatInt(micros/1_000_000, 10)
	if f := micros % 1_000_000; f != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(1_000_000+f, 10)[1:], "0")
	}
	return s
}
