// SPDX-License-Identifier: Apache-2.0

package quota

import (
	"time"

	"github.com/keygate/keygate"
)

// Call describes a call asking for admission.
type Call struct {
	Tenant keygate.TenantID
	// Provider is the catalog name of the provider called; rate limits for
	// this provider and for every provider ("") apply.
	Provider string
	// Source is who pays; see the package doc for which limits it meets.
	Source keygate.KeySource
	// User is the call's end user (keygate.UsageEvent.EndUser), "" when
	// it named none: the budget's per-user limits count it under that
	// user; a call without one meets no per-user limit.
	User string
	// Budget and Limits are the tenant's settings (keygate.GovernanceStore;
	// the resolver caches them).
	Budget keygate.Budget
	Limits []keygate.RateLimit
	// Token is the gateway token that makes the call, and TokenScope its
	// scope (nil: none). The scope's budget and rate limits are counted in
	// counters of the token's own, beside the tenant's, for every call of
	// the token whoever pays; its budget is always hard. A call must fit
	// both the tenant's and the token's.
	Token      string
	TokenScope *keygate.TokenScope
	// EstimateTokens (input plus output) and EstimateMicros are what the
	// call is expected to use at most (from its prompt and max tokens, or
	// the caller's default), reserved against token and money budgets and
	// charged to TPM. Negative counts as zero; a zero estimate still needs
	// a budget that is not spent, and a TPM counter that is not in debt.
	EstimateTokens int64
	EstimateMicros int64
	// Now is when the call is admitted; zero means the service's clock.
	Now time.Time
}

// applies reports whether a limit with the given AppliesTo covers a call
// paid by src.
func applies(appliesTo string, src keygate.KeySource) bool {
	return appliesTo == keygate.AppliesToAll || src == keygate.SourcePlatform
}

// covered reports whether any budget or rate limit applies to c.
// Covers reports whether any of c's budgets or rate limits applies to it
// (by source and provider); a call no limit covers is admitted without a
// counter round trip, and its caller need not estimate it.
func Covers(c *Call) bool { return covered(c) }

func covered(c *Call) bool {
	if c.TokenScope != nil && c.Token != "" && c.TokenScope.HasLimits() {
		return true
	}
	b := &c.Budget
	if applies(b.AppliesTo, c.Source) &&
		(b.DailyUSDMicros != nil || b.MonthlyUSDMicros != nil || b.DailyTokens != nil || b.MonthlyTokens != nil ||
			c.User != "" && (b.PerUserDailyUSDMicros != nil || b.PerUserDailyTokens != nil)) {
		return true
	}
	for i := range c.Limits {
		l := &c.Limits[i]
		if (l.Provider == "" || l.Provider == c.Provider) && applies(l.AppliesTo, c.Source) && (l.RPM > 0 || l.TPM > 0) {
			return true
		}
	}
	return false
}

// budgetMeta is what a ticket remembers about one budget counter.
type budgetMeta struct {
	limit   string // LimitDailyUSD ...
	perUser bool   // a per-user limit (LimitUserDailyUSD, LimitUserDailyTokens)
	tokens  bool   // counts tokens, else micro-USD
	token   bool   // the gateway token's own budget, else the tenant's
	resetAt time.Time
}

// rateMeta is what a ticket remembers about one rate counter.
type rateMeta struct {
	limit    string // LimitRPM or LimitTPM
	provider string // "" for a limit on every provider
	token    bool   // the gateway token's own limit, else the tenant's
}

// budgetLimit is one of a budget's six possible limits.
type budgetLimit struct {
	value   *int64
	name    string
	unit    string // "usd" or "tok", in counter keys
	w       window
	perUser bool
}

// budgetLimits lists a budget's six possible limits in the order they are
// checked: the tenant's four, then the two per end user.
func budgetLimits(b *keygate.Budget) [6]budgetLimit {
	return [6]budgetLimit{
		{b.DailyUSDMicros, LimitDailyUSD, "usd", window{}, false},
		{b.MonthlyUSDMicros, LimitMonthlyUSD, "usd", window{monthly: true}, false},
		{b.DailyTokens, LimitDailyTokens, "tok", window{}, false},
		{b.MonthlyTokens, LimitMonthlyTokens, "tok", window{monthly: true}, false},
		{b.PerUserDailyUSDMicros, LimitUserDailyUSD, "usd", window{}, true},
		{b.PerUserDailyTokens, LimitUserDailyTokens, "tok", window{}, true},
	}
}

// tokenBudget is the budget of a token scope's limits: always hard.
func tokenBudget(s *keygate.TokenScope) keygate.Budget {
	return keygate.Budget{DailyUSDMicros: s.DailyUSDMicros, MonthlyUSDMicros: s.MonthlyUSDMicros,
		DailyTokens: s.DailyTokens, MonthlyTokens: s.MonthlyTokens, Hard: true}
}

// addBudgets fills t's budget counters for c: the tenant's budget, when it
// applies to c's source, then the token's own.
func (t *Ticket) addBudgets(c *Call, now time.Time, expireAfter time.Duration) {
	if applies(c.Budget.AppliesTo, c.Source) {
		t.addBudget(c, &c.Budget, "", now, expireAfter)
	}
	if c.TokenScope != nil && c.Token != "" {
		b := tokenBudget(c.TokenScope)
		t.addBudget(c, &b, c.Token, now, expireAfter)
	}
}

// addBudget fills t's counters of budget b: the tenant's (token "") or the
// token's, whose keys are "{tenant}:t:<token>:b:...", in the tenant's hash
// tag so that one script still touches every counter of a call.
func (t *Ticket) addBudget(c *Call, b *keygate.Budget, token string, now time.Time, expireAfter time.Duration) {
	var buf [96 + keygate.MaxEndUserLen]byte
	for _, l := range budgetLimits(b) {
		if l.value == nil || l.perUser && c.User == "" {
			continue
		}
		// A per-user counter lives under its tenant's tag (one Redis
		// Cluster slot with the tenant's own counters), named by the user:
		// "{tn_1}:u:alice:b:usd:d:20260105". An id may hold ':', but what
		// follows it is one of a few fixed suffixes, so two users never
		// share a counter, nor a user the tenant's ("{tn_1}:b:...").
		key := appendTenantTag(buf[:0], c.Tenant)
		if l.perUser {
			key = append(key, ":u:"...)
			key = append(key, c.User...)
		}
		if token != "" {
			key = append(key, ":t:"...)
			key = append(key, token...)
		}
		key = append(key, ":b:"...)
		key = append(key, l.unit...)
		key = append(key, ':')
		key, end := l.w.bounds(now, key)
		amount := c.EstimateMicros
		if l.unit == "tok" {
			amount = c.EstimateTokens
		}
		t.budgets[t.nb] = keygate.QuotaBudget{
			Key:      t.s.keys.intern(key),
			Limit:    *l.value,
			Amount:   max(amount, 0),
			Enforce:  b.Hard,
			ExpireAt: end.Add(expireAfter),
		}
		t.bmeta[t.nb] = budgetMeta{limit: l.name, perUser: l.perUser, tokens: l.unit == "tok", token: token != "", resetAt: end}
		t.nb++
	}
}

// addRates fills t's rate counters for c: RPM and TPM of every limit on
// c.Provider or on every provider that applies to c.Source. Two limits on
// the same counter (a duplicated setting) merge into the stricter one.
// Then the token's own RPM and TPM, over every provider.
func (t *Ticket) addRates(c *Call) {
	if s := c.TokenScope; s != nil && c.Token != "" {
		if s.RPM > 0 {
			t.addRate(c.Tenant, c.Token, "", LimitRPM, s.RPM, 1)
		}
		if s.TPM > 0 {
			t.addRate(c.Tenant, c.Token, "", LimitTPM, s.TPM, min(max(c.EstimateTokens, 0), s.TPM))
		}
	}
	for i := range c.Limits {
		l := &c.Limits[i]
		if (l.Provider != "" && l.Provider != c.Provider) || !applies(l.AppliesTo, c.Source) {
			continue
		}
		if l.RPM > 0 {
			t.addRate(c.Tenant, "", l.Provider, LimitRPM, l.RPM, 1)
		}
		if l.TPM > 0 {
			t.addRate(c.Tenant, "", l.Provider, LimitTPM, l.TPM, min(max(c.EstimateTokens, 0), l.TPM))
		}
	}
}

// addRate adds one rate counter: the tenant's (token "") for provider, or
// the token's ("{tenant}:t:<token>:r:...").
func (t *Ticket) addRate(tenant keygate.TenantID, token, provider, name string, limit, cost int64) {
	for i := range t.nr {
		if t.rmeta[i].provider == provider && t.rmeta[i].limit == name && t.rmeta[i].token == (token != "") {
			if limit < t.rates[i].Limit {
				t.rates[i].Limit = limit
				t.rates[i].Cost = min(t.rates[i].Cost, limit)
			}
			return
		}
	}
	if t.nr == len(t.rates) {
		return // unreachable: at most three limits (provider, all, token) of two kinds
	}
	var buf [96]byte
	key := appendTenantTag(buf[:0], tenant)
	if token != "" {
		key = append(key, ":t:"...)
		key = append(key, token...)
	}
	key = append(key, ":r:"...)
	if provider == "" {
		key = append(key, '*')
	} else {
		key = append(key, provider...)
	}
	key = append(key, ':')
	key = append(key, name...)
	t.rates[t.nr] = keygate.QuotaRate{Key: t.s.keys.intern(key), Limit: limit, Period: time.Minute, Cost: cost}
	t.rmeta[t.nr] = rateMeta{limit: name, provider: provider, token: token != ""}
	t.nr++
}

// appendTenantTag appends "{tenant}": the braces make it a Redis Cluster
// hash tag, so every counter of one tenant lives in one slot and one script
// may touch them all.
func appendTenantTag(b []byte, tenant keygate.TenantID) []byte {
	b = append(b, '{')
	b = append(b, tenant...)
	return append(b, '}')
}
