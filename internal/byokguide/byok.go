// SPDX-License-Identifier: Apache-2.0

package byokguide

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/keyhealth"
	"github.com/keygate/keygate/internal/keyvault"
	"github.com/keygate/keygate/internal/reqid"
)

// testResultJSON is the story's per-provider answer to test-keys:
// {"valid": true, "models": [...], "error": null}. Status (valid, rejected,
// unverifiable) and model_count are keygate's additions: "not valid" may
// also mean the provider could not be asked.
type testResultJSON struct {
	Valid      bool             `json:"valid"`
	Models     []string         `json:"models"`
	ModelCount int              `json:"model_count"`
	Status     keyhealth.Status `json:"status"`
	Error      *string          `json:"error"`
}

func toTestResultJSON(r keyhealth.Result) testResultJSON {
	out := testResultJSON{Valid: r.Status == keyhealth.Valid, Models: r.Models, ModelCount: r.ModelCount, Status: r.Status}
	if out.Models == nil {
		out.Models = []string{}
	}
	if r.Error != "" {
		msg := r.Error
		out.Error = &msg
	}
	return out
}

func (c *call) change() keyvault.Change {
	return keyvault.Change{Actor: c.p.Actor(), RequestID: reqid.From(c.ctx())}
}

func (c *call) event(action string) keygate.AuditEvent {
	return keygate.AuditEvent{ActorID: c.p.TokenID, ActorName: c.p.Name, Tenant: c.tenant.ID, Action: action, RequestID: reqid.From(c.ctx())}
}

// test checks every candidate against its provider, concurrently, and
// records each test in the audit trail (key.tested, with the outcome and
// the hint, never the key), as the native keys:test does. A key with a bad
// format is reported as rejected with the format problem.
func (h *Handler) test(c *call, keys []candidate) (map[string]keyhealth.Result, error) {
	type outcome struct {
		provider string
		res      keyhealth.Result
	}
	results := make(chan outcome, len(keys))
	for _, k := range keys {
		go func(k candidate) {
			res, err := h.d.Checker.Check(c.ctx(), k.provider, k.key)
			if err != nil {
				res = keyhealth.Result{Status: keyhealth.Rejected, Error: keygate.ErrorMessage(err)}
			}
			results <- outcome{k.provider, res}
		}(k)
	}
	hints := map[string]string{}
	for _, k := range keys {
		hints[k.provider] = k.key.Hint()
	}
	out := map[string]keyhealth.Result{}
	for range keys {
		o := <-results
		out[o.provider] = o.res
	}
	// Audit in a stable order, after every check has answered.
	for _, k := range keys {
		ev := c.event(keygate.ActionKeyTested)
		ev.Provider, ev.Hint = k.provider, hints[k.provider]
		detail, _ := json.Marshal(map[string]any{"status": out[k.provider].Status, "error": out[k.provider].Error, "via": "compat"})
		ev.Detail = string(detail)
		if _, err := h.d.Store.AppendAudit(c.ctx(), ev); err != nil {
			return nil, fmt.Errorf("audit key test of %s: %w", k.provider, err)
		}
	}
	return out, nil
}

// handleTestKeys serves POST .../byok/test-keys: each given key is tested
// against its provider, nothing is saved.
func (h *Handler) handleTestKeys(c *call) (int, any, error) {
	keys, err := decodeKeys(c.r, h.d.MaxBodyBytes, h.d.Providers.Names())
	if err != nil {
		return 0, nil, err
	}
	res, err := h.test(c, keys)
	if err != nil {
		return 0, nil, err
	}
	out := map[string]testResultJSON{}
	for p, r := range res {
		out[p] = toTestResultJSON(r)
	}
	return http.StatusOK, out, nil
}

// testAndSave tests every key first and, only if none was rejected, saves
// each as the tenant's new current key (key.set or key.rotated). A
// rejected key (or one with a bad format) refuses the whole request with
// key_rejected and nothing is written; an unverifiable one (the provider
// could not be asked) is saved with status unknown, as the native PUT
// ?test=true does.
func (h *Handler) testAndSave(c *call, keys []candidate) (map[string]keyhealth.Result, []keygate.ProviderKey, error) {
	res, err := h.test(c, keys)
	if err != nil {
		return nil, nil, err
	}
	var refused []string
	for _, k := range keys {
		if r := res[k.provider]; r.Status == keyhealth.Rejected {
			refused = append(refused, fmt.Sprintf("%s: %s", keyField(k.provider), strings.TrimSuffix(r.Error, ".")))
		}
	}
	if len(refused) > 0 {
		return nil, nil, keygate.Errorf(keygate.CodeKeyRejected, "No key was saved: %s. Check the key format (OpenAI keys start with sk-, Anthropic keys with sk-ant-) and permissions.", strings.Join(refused, "; "))
	}
	var saved []keygate.ProviderKey
	for _, k := range keys {
		status := keygate.KeyStatusUnknown
		if res[k.provider].Status == keyhealth.Valid {
			status = keygate.KeyStatusValid
		}
		pk, err := h.d.Vault.PutChecked(c.ctx(), c.change(), c.tenant.ID, k.provider, k.key, status)
		if err != nil {
			return nil, nil, err
		}
		saved = append(saved, pk)
	}
	return res, saved, nil
}

// handleEnable serves POST .../byok/enable: test the keys, refuse invalid
// ones, save them, and turn BYOK on. A tenant that is not entitled to BYOK
// yet is entitled here, which only a platform admin may do (the same right
// as PATCH /api/v1/tenants/{tenant}); a tenant's owner or admin may enable
// BYOK with keys once the tenant is entitled.
func (h *Handler) handleEnable(c *call) (int, any, error) {
	keys, err := decodeKeys(c.r, h.d.MaxBodyBytes, h.d.Providers.Names())
	if err != nil {
		return 0, nil, err
	}
	if !c.tenant.BYOKEnabled && !c.p.Can(auth.RightTenantUpdate, c.tenant.ID) {
		return 0, nil, forbidden("BYOK is not enabled for this tenant, and only a platform admin may grant it.")
	}
	before, err := h.d.Vault.List(c.ctx(), c.tenant.ID)
	if err != nil {
		return 0, nil, err
	}
	wasOn := c.tenant.BYOKEnabled && len(before) > 0
	res, saved, err := h.testAndSave(c, keys)
	if err != nil {
		return 0, nil, err
	}
	if !wasOn {
		if err := h.setEntitlement(c, true, savedProviders(saved)); err != nil {
			return 0, nil, err
		}
	}
	st, err := h.status(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, actionJSON{statusJSON: st, Message: "BYOK enabled for tenant", Results: resultsJSON(res), Saved: savedProviders(saved)}, nil
}

// handleRotate serves POST .../byok/rotate: with BYOK enabled, test the
// given keys (at least one; the others stay as they are), refuse invalid
// ones, and make the new ones current at once (key.rotated).
func (h *Handler) handleRotate(c *call) (int, any, error) {
	keys, err := decodeKeys(c.r, h.d.MaxBodyBytes, h.d.Providers.Names())
	if err != nil {
		return 0, nil, err
	}
	before, err := h.d.Vault.List(c.ctx(), c.tenant.ID)
	if err != nil {
		return 0, nil, err
	}
	if !c.tenant.BYOKEnabled || len(before) == 0 {
		return 0, nil, keygate.Errorf(keygate.CodeConflict, "BYOK is not enabled for this tenant: enable it first (POST /api/tenants/%s/byok/enable).", c.tenant.ID)
	}
	res, saved, err := h.testAndSave(c, keys)
	if err != nil {
		return 0, nil, err
	}
	st, err := h.status(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, actionJSON{statusJSON: st, Message: "BYOK keys rotated", Results: resultsJSON(res), Saved: savedProviders(saved)}, nil
}

// handleRevert serves POST .../byok/revert: delete every key of the tenant
// (key.cleared each) and withdraw its BYOK entitlement (byok.disabled), so
// its calls use the platform's keys and count toward the platform's costs
// again. Withdrawing the entitlement is a platform-admin right; a tenant's
// owner or admin may revert a tenant that is not entitled (which only
// deletes leftover keys).
func (h *Handler) handleRevert(c *call) (int, any, error) {
	if c.tenant.BYOKEnabled && !c.p.Can(auth.RightTenantUpdate, c.tenant.ID) {
		return 0, nil, forbidden("Reverting to platform keys withdraws BYOK, which only a platform admin may do.")
	}
	keys, err := h.d.Vault.List(c.ctx(), c.tenant.ID)
	if err != nil {
		return 0, nil, err
	}
	deleted := []string{}
	for _, k := range keys {
		if err := h.d.Vault.Delete(c.ctx(), c.change(), c.tenant.ID, k.Provider); err != nil && !keygate.IsCode(err, keygate.CodeNotFound) {
			return 0, nil, err
		}
		deleted = append(deleted, k.Provider)
	}
	if c.tenant.BYOKEnabled {
		if err := h.setEntitlement(c, false, deleted); err != nil {
			return 0, nil, err
		}
	}
	st, err := h.status(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, actionJSON{statusJSON: st, Message: "BYOK disabled: the tenant's keys were deleted and platform keys are used", Deleted: deleted}, nil
}

// setEntitlement records that BYOK was turned on or off for the tenant,
// with byok.enabled or byok.disabled. When the entitlement itself changes
// the event goes with the tenant update in one transaction; when enabling
// a tenant that was already entitled but had no keys, the event is
// appended alone (the tenant's BYOK starts now: it is what "enabled since"
// reports).
func (h *Handler) setEntitlement(c *call, on bool, providers []string) error {
	action := keygate.ActionBYOKDisabled
	if on {
		action = keygate.ActionBYOKEnabled
	}
	ev := c.event(action)
	detail, _ := json.Marshal(map[string]any{"via": "compat", "providers": providers, "entitlement_changed": c.tenant.BYOKEnabled != on})
	ev.Detail = string(detail)
	if c.tenant.BYOKEnabled == on {
		if _, err := h.d.Store.AppendAudit(c.ctx(), ev); err != nil {
			return fmt.Errorf("audit %s of %s: %w", action, c.tenant.ID, err)
		}
		return nil
	}
	t, err := h.d.Store.UpdateTenant(c.ctx(), c.tenant.ID, keygate.TenantUpdate{BYOKEnabled: &on}, ev)
	if err != nil {
		return err
	}
	c.tenant = t
	return nil
}

func savedProviders(keys []keygate.ProviderKey) []string {
	out := []string{}
	for _, k := range keys {
		out = append(out, k.Provider)
	}
	sort.Strings(out)
	return out
}

func resultsJSON(res map[string]keyhealth.Result) map[string]testResultJSON {
	out := map[string]testResultJSON{}
	for p, r := range res {
		out[p] = toTestResultJSON(r)
	}
	return out
}

// actionJSON is the answer to enable, rotate and revert: the tenant's new
// status, a confirmation, and what was tested, saved or deleted.
type actionJSON struct {
	statusJSON
	Message string                    `json:"message"`
	Results map[string]testResultJSON `json:"results,omitempty"`
	Saved   []string                  `json:"saved,omitempty"`
	Deleted []string                  `json:"deleted,omitempty"`
}

// providerJSON is one provider's line in the status: whether a key is
// configured and, if so, its hint, version and health; never the key.
type providerJSON struct {
	Configured bool              `json:"configured"`
	Hint       string            `json:"hint,omitempty"`
	Version    int               `json:"version,omitempty"`
	Status     keygate.KeyStatus `json:"status,omitempty"`
	UpdatedAt  *time.Time        `json:"updated_at,omitempty"`
}

// Cost tracking modes of the status.
const (
	costBYOK     = "byok"     // costs are tracked in the tenant's provider accounts; the platform shows N/A
	costPlatform = "platform" // costs are tracked (and budgets enforced) by the platform
)

// statusJSON is GET .../byok/status.
type statusJSON struct {
	TenantID keygate.TenantID `json:"tenant_id"`
	Tenant   string           `json:"tenant"`
	// BYOKEnabled: the tenant is entitled and has at least one key, so its
	// own keys are used.
	BYOKEnabled bool `json:"byok_enabled"`
	// BYOKEntitled: a platform admin granted BYOK (the tenant's
	// byok_enabled in /api/v1).
	BYOKEntitled bool `json:"byok_entitled"`
	// Providers lists openai and anthropic always, and every other
	// provider with a key.
	Providers           map[string]providerJSON `json:"providers"`
	ProvidersConfigured []string                `json:"providers_configured"`
	EnabledSince        *time.Time              `json:"enabled_since"`
	CostTracking        string                  `json:"cost_tracking"`
	CostTrackingLabel   string                  `json:"cost_tracking_label"`
	BYOKBilling         string                  `json:"byok_billing"`
}

// handleStatus serves GET .../byok/status.
func (h *Handler) handleStatus(c *call) (int, any, error) {
	st, err := h.status(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, st, nil
}

// status builds the tenant's BYOK status. "Enabled since" is the time of
// the tenant's latest byok.enabled event, or its creation when it was
// entitled from the start and never enabled explicitly.
func (h *Handler) status(c *call) (statusJSON, error) {
	keys, err := h.d.Vault.List(c.ctx(), c.tenant.ID)
	if err != nil {
		return statusJSON{}, err
	}
	budget, err := h.d.Store.GetBudget(c.ctx(), c.tenant.ID)
	if err != nil {
		return statusJSON{}, err
	}
	st := statusJSON{
		TenantID: c.tenant.ID, Tenant: c.tenant.Name,
		BYOKEntitled: c.tenant.BYOKEnabled,
		BYOKEnabled:  c.tenant.BYOKEnabled && len(keys) > 0,
		Providers: map[string]providerJSON{
			"openai":    {},
			"anthropic": {},
		},
		ProvidersConfigured: []string{},
		CostTracking:        costPlatform,
		CostTrackingLabel:   "Platform",
		BYOKBilling:         budget.BYOKBilling,
	}
	for _, k := range keys {
		st.Providers[k.Provider] = providerJSON{Configured: true, Hint: k.Hint, Version: k.Version, Status: k.Status, UpdatedAt: optTime(k.CreatedAt)}
		st.ProvidersConfigured = append(st.ProvidersConfigured, k.Provider)
	}
	sort.Strings(st.ProvidersConfigured)
	if !st.BYOKEnabled {
		return st, nil
	}
	if budget.BYOKBilling != keygate.BillingMeter {
		st.CostTracking, st.CostTrackingLabel = costBYOK, "Using own keys"
	}
	evs, err := h.d.Store.ListAudit(c.ctx(), keygate.AuditFilter{Tenant: c.tenant.ID, Action: keygate.ActionBYOKEnabled, Limit: 1})
	if err != nil {
		return statusJSON{}, err
	}
	since := c.tenant.CreatedAt
	if len(evs) > 0 {
		since = evs[0].Time
	}
	st.EnabledSince = optTime(since)
	return st, nil
}
