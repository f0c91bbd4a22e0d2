// SPDX-License-Identifier: Apache-2.0

package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keygate/keygate"
)

// AuditEvent is the API's audit event object.
type AuditEvent struct {
	Seq         int64            `json:"seq"`
	ID          string           `json:"id"`
	Time        time.Time        `json:"time"`
	Actor       Actor            `json:"actor"`
	Tenant      keygate.TenantID `json:"tenant"`
	Provider    string           `json:"provider"`
	Action      string           `json:"action"`
	KeyID       string           `json:"key_id"`
	Version     int              `json:"version"`
	Hint        string           `json:"hint"`
	Fingerprint string           `json:"fingerprint"`
	RequestID   string           `json:"request_id"`
	// Detail is the event's JSON object, passed through as sent.
	Detail   json.RawMessage `json:"detail,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// Actor is who made an audited change.
type Actor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AuditFilter selects audit events; zero fields do not filter. With Tenant
// set to a tenant the tenant's own endpoint is used (open to that tenant's
// tokens); otherwise, and for keygate.PlatformScope (events about platform
// keys and the master key), the platform-wide one (platform admins only).
type AuditFilter struct {
	Tenant   string // tenant id or name
	Provider string
	Action   string
	Since    time.Time // inclusive
	Until    time.Time // exclusive
	// Before pages backwards: only events with a sequence number below it.
	Before int64
	// Limit caps the events of one page; 0 leaves the server's default.
	Limit int
}

// AuditPage is one page of audit events, newest first. NextBefore is the
// Before of the next (older) page, 0 when this is the last one.
type AuditPage struct {
	Events     []AuditEvent `json:"events"`
	NextBefore int64        `json:"next_before"`
}

// AuditVerification is the result of checking the audit hash chain. OK is
// false (and Error says where) when a row was changed, removed or reordered.
type AuditVerification struct {
	OK       bool   `json:"ok"`
	Events   int64  `json:"events"`
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	Error    string `json:"error"`
}

// ListAudit returns one page of the events matching f, newest first.
func (c *Client) ListAudit(ctx context.Context, f AuditFilter) (AuditPage, error) {
	var page AuditPage
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	path := "/audit"
	switch {
	case keygate.TenantID(f.Tenant).IsPlatform():
		// Events about no tenant (platform keys, the master key) are
		// selected on the platform-wide endpoint.
		q.Set("tenant", f.Tenant)
	case f.Tenant != "":
		path = "/tenants/" + pathEscape(f.Tenant) + "/audit"
	}
	set("provider", f.Provider)
	set("action", f.Action)
	if !f.Since.IsZero() {
		set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	if f.Before > 0 {
		set("before", strconv.FormatInt(f.Before, 10))
	}
	if f.Limit > 0 {
		set("limit", strconv.Itoa(f.Limit))
	}
	status, err := c.do(ctx, call{method: http.MethodGet, path: path, query: q, out: &page})
	if status == http.StatusNotFound && path != "/audit" && strings.HasPrefix(f.Tenant, "tn_") {
		// A deleted tenant has no /tenants/{id} any more, but its events
		// are kept: a platform admin finds them on the platform-wide
		// endpoint by the tenant's id. Any other caller keeps the 404.
		q.Set("tenant", f.Tenant)
		var all AuditPage
		if _, perr := c.do(ctx, call{method: http.MethodGet, path: "/audit", query: q, out: &all}); perr == nil {
			return all, nil
		}
	}
	return page, err
}

// AllAudit yields every event matching f, newest first, following the pages
// (f.Limit is the page size). It stops after yielding the first error, and
// when a page would not move backwards (a server bug that would otherwise
// loop forever).
func (c *Client) AllAudit(ctx context.Context, f AuditFilter) iter.Seq2[AuditEvent, error] {
	return func(yield func(AuditEvent, error) bool) {
		for {
			page, err := c.ListAudit(ctx, f)
			if err != nil {
				yield(AuditEvent{}, err)
				return
			}
			for _, ev := range page.Events {
				if !yield(ev, nil) {
					return
				}
			}
			if page.NextBefore <= 0 || len(page.Events) == 0 {
				return
			}
			if f.Before > 0 && page.NextBefore >= f.Before {
				yield(AuditEvent{}, &Error{Method: http.MethodGet, Path: "/api/v1/audit", Status: http.StatusOK,
					Err: keygate.Errorf(keygate.CodeInternal, "The server's audit paging does not move backwards (before=%d, next_before=%d).", f.Before, page.NextBefore)})
				return
			}
			f.Before = page.NextBefore
		}
	}
}

// VerifyAudit checks the audit hash chain on the server. A broken chain is
// not an error: it is reported in the result, with OK false.
func (c *Client) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	var v AuditVerification
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/audit/verify", out: &v})
	return v, err
}

// AuditCheckpoint is a signed statement of the audit trail's head, made by
// the server with its audit key: keep it outside the database, and give it
// back to VerifyAuditCheckpoint later to prove that no event up to Seq was
// removed or rewritten since.
type AuditCheckpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"`
}

// AuditCheckpoint returns a signed checkpoint of the audit trail's head.
func (c *Client) AuditCheckpoint(ctx context.Context) (AuditCheckpoint, error) {
	var cp AuditCheckpoint
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/audit/checkpoint", out: &cp})
	return cp, err
}

// VerifyAuditCheckpoint checks the audit chain on the server and that it
// still holds the event of cp with the same hash. A checkpoint whose
// signature does not verify, and a trail that lost or rewrote that event,
// are reported in the result with OK false, not as errors.
func (c *Client) VerifyAuditCheckpoint(ctx context.Context, cp AuditCheckpoint) (AuditVerification, error) {
	body, err := jsonBody(map[string]any{"checkpoint": cp})
	if err != nil {
		return AuditVerification{}, err
	}
	var v AuditVerification
	_, err = c.do(ctx, call{method: http.MethodPost, path: "/audit/verify", body: body, out: &v})
	return v, err
}
