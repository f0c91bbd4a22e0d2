// SPDX-License-Identifier: Apache-2.0

package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/keyhealth"
	"github.com/keygate/keygate/internal/keyvault"
)

// Lifecycle is what the key-lifecycle endpoints drive: testing candidate
// keys, saving a tested key, versions and rollback.
type Lifecycle interface {
	Check(ctx context.Context, provider string, key keygate.Secret) (keyhealth.Result, error)
	PutChecked(ctx context.Context, c keyvault.Change, owner keygate.TenantID, provider string, key keygate.Secret, status keygate.KeyStatus) (keygate.ProviderKey, error)
	Rollback(ctx context.Context, c keyvault.Change, owner keygate.TenantID, provider string) (keygate.ProviderKey, error)
	Versions(ctx context.Context, owner keygate.TenantID, provider string) ([]keygate.KeyVersion, error)
	AllKeys(ctx context.Context) ([]keygate.ProviderKey, error)
}

func (a *API) lifecycle() (Lifecycle, error) {
	if a.d.Lifecycle == nil {
		return nil, keygate.Errorf(keygate.CodeUnsupported, "Key testing is not available on this server.")
	}
	return a.d.Lifecycle, nil
}

type testResultJSON struct {
	Status     keyhealth.Status `json:"status"`
	Models     []string         `json:"models"`
	ModelCount int              `json:"model_count"`
	Error      string           `json:"error"`
}

func toTestResultJSON(r keyhealth.Result) testResultJSON {
	out := testResultJSON{Status: r.Status, Models: r.Models, ModelCount: r.ModelCount, Error: r.Error}
	if out.Models == nil {
		out.Models = []string{}
	}
	return out
}

// maxTestKeys bounds one keys:test request.
const maxTestKeys = 16

// handleKeysTest tests candidate keys without saving them: for each
// provider, the format, then the provider's own answer to that key alone.
// Each test is audited (key.tested, with the outcome and the hint, never the
// key). A key with a bad format is answered per provider as rejected with
// the format problem, so one typo does not hide the other results.
func (a *API) handleKeysTest(c *call) (int, any, error) {
	lc, err := a.lifecycle()
	if err != nil {
		return 0, nil, err
	}
	var req struct {
		Keys map[string]string `json:"keys"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if len(req.Keys) == 0 {
		return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, `Send at least one key: {"keys": {"openai": "..."}}.`)
	}
	if len(req.Keys) > maxTestKeys {
		return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "At most %d keys per request.", maxTestKeys)
	}
	names := a.d.Providers.Names()
	for p := range req.Keys {
		if !slices.Contains(names, p) {
			return 0, nil, keygate.Errorf(keygate.CodeUnknownProvider, "Unknown provider %s in keys.", a.ref(p))
		}
	}
	type outcome struct {
		provider string
		res      keyhealth.Result
		hint     string
	}
	results := make(chan outcome, len(req.Keys))
	for p, k := range req.Keys {
		go func(p string, key keygate.Secret) {
			res, err := lc.Check(c.r.Context(), p, key)
			if err != nil {
				res = keyhealth.Result{Status: keyhealth.Rejected, Error: keygate.ErrorMessage(err)}
			}
			results <- outcome{p, res, key.Hint()}
		}(p, keygate.NewSecret(k))
	}
	out := map[string]testResultJSON{}
	for range req.Keys {
		o := <-results
		out[o.provider] = toTestResultJSON(o.res)
		ev := c.event(c.owner(), keygate.ActionKeyTested)
		ev.Provider, ev.Hint = o.provider, o.hint
		detail, _ := json.Marshal(map[string]any{"status": o.res.Status, "error": o.res.Error})
		ev.Detail = string(detail)
		if _, err := a.d.Store.AppendAudit(c.r.Context(), ev); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, map[string]any{"results": out}, nil
}

// putTested tests key before saving it (PUT ...?test=true): a rejected key
// is refused (422 key_rejected) and nothing is written; an unverifiable one
// is saved with status unknown; a valid one is saved as valid.
func (a *API) putTested(c *call, provider string, key keygate.Secret) (keygate.ProviderKey, error) {
	lc, err := a.lifecycle()
	if err != nil {
		return keygate.ProviderKey{}, err
	}
	res, err := lc.Check(c.r.Context(), provider, key)
	if err != nil {
		return keygate.ProviderKey{}, err
	}
	status := keygate.KeyStatusUnknown
	switch res.Status {
	case keyhealth.Rejected:
		return keygate.ProviderKey{}, keygate.Errorf(keygate.CodeKeyRejected, "The key was not saved: %s.", res.Error)
	case keyhealth.Valid:
		status = keygate.KeyStatusValid
	}
	return lc.PutChecked(c.r.Context(), c.change(), c.owner(), provider, key, status)
}

// handleKeyRollback serves POST .../keys/{provider}:rollback.
func (a *API) handleKeyRollback(c *call) (int, any, error) {
	name, ok := strings.CutSuffix(c.r.PathValue("provider"), ":rollback")
	if !ok {
		return 0, nil, keygate.Errorf(keygate.CodeNotFound, "No such endpoint: %s %s (did you mean .../keys/{provider}:rollback?).", c.r.Method, a.d.Providers.RedactPath(c.r.URL.Path))
	}
	lc, err := a.lifecycle()
	if err != nil {
		return 0, nil, err
	}
	provider, err := c.providerNamed(name)
	if err != nil {
		return 0, nil, err
	}
	k, err := lc.Rollback(c.r.Context(), c.change(), c.owner(), provider)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toKeyJSON(k), nil
}

type keyVersionJSON struct {
	KeyID        string     `json:"key_id"`
	Version      int        `json:"version"`
	Hint         string     `json:"hint"`
	Fingerprint  string     `json:"fingerprint"`
	Current      bool       `json:"current"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	SupersededAt *time.Time `json:"superseded_at"`
	DestroyedAt  *time.Time `json:"destroyed_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (a *API) handleKeyVersions(c *call) (int, any, error) {
	lc, err := a.lifecycle()
	if err != nil {
		return 0, nil, err
	}
	provider, err := c.provider()
	if err != nil {
		return 0, nil, err
	}
	vs, err := lc.Versions(c.r.Context(), c.owner(), provider)
	if err != nil {
		return 0, nil, err
	}
	out := make([]keyVersionJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, keyVersionJSON{KeyID: v.KeyID, Version: v.Version, Hint: v.Hint, Fingerprint: v.Fingerprint, Current: v.Current,
			CreatedBy: v.CreatedBy, CreatedAt: v.CreatedAt, SupersededAt: optTime(v.SupersededAt), DestroyedAt: optTime(v.DestroyedAt)})
	}
	return http.StatusOK, map[string]any{"versions": out}, nil
}

type healthJSON struct {
	Owner         keygate.TenantID  `json:"owner"`
	Provider      string            `json:"provider"`
	Status        keygate.KeyStatus `json:"status"`
	Color         string            `json:"color"`
	Hint          string            `json:"hint"`
	Version       int               `json:"version"`
	LastCheckedAt *time.Time        `json:"last_checked_at"`
	LastError     string            `json:"last_error"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

// color is the health page's traffic light: green for a key the provider
// accepts, red for one it rejected, grey while unknown.
func color(s keygate.KeyStatus) string {
	switch s {
	case keygate.KeyStatusValid:
		return "green"
	case keygate.KeyStatusInvalid:
		return "red"
	}
	return "grey"
}

func toHealthJSON(k keygate.ProviderKey) healthJSON {
	return healthJSON{Owner: k.Owner, Provider: k.Provider, Status: k.Status, Color: color(k.Status), Hint: k.Hint, Version: k.Version,
		LastCheckedAt: optTime(k.LastCheckedAt), LastError: k.LastError, UpdatedAt: k.UpdatedAt}
}

// handleHealth summarizes the health of the tenant's keys (or, on the
// platform route, of the platform's keys) per provider, and says whether
// all are green.
func (a *API) handleHealth(c *call) (int, any, error) {
	keys, err := a.d.Vault.List(c.r.Context(), c.owner())
	if err != nil {
		return 0, nil, err
	}
	out := make([]healthJSON, 0, len(keys))
	healthy := true
	for _, k := range keys {
		out = append(out, toHealthJSON(k))
		healthy = healthy && k.Status != keygate.KeyStatusInvalid
	}
	return http.StatusOK, map[string]any{"healthy": healthy, "keys": out}, nil
}

// handleHealthAll lists every red key of every owner, platform-wide.
func (a *API) handleHealthAll(c *call) (int, any, error) {
	lc, err := a.lifecycle()
	if err != nil {
		return 0, nil, err
	}
	keys, err := lc.AllKeys(c.r.Context())
	if err != nil {
		return 0, nil, err
	}
	counts := map[string]int{"green": 0, "red": 0, "grey": 0}
	red := []healthJSON{}
	for _, k := range keys {
		counts[color(k.Status)]++
		if k.Status == keygate.KeyStatusInvalid {
			red = append(red, toHealthJSON(k))
		}
	}
	sort.Slice(red, func(i, j int) bool { return red[i].UpdatedAt.After(red[j].UpdatedAt) })
	return http.StatusOK, map[string]any{"counts": counts, "red": red, "total": len(keys)}, nil
}
