// SPDX-License-Identifier: Apache-2.0

package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/audit"
)

type actorJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type auditJSON struct {
	Seq         int64            `json:"seq"`
	ID          string           `json:"id"`
	Time        time.Time        `json:"time"`
	Actor       actorJSON        `json:"actor"`
	Tenant      keygate.TenantID `json:"tenant"`
	Provider    string           `json:"provider"`
	Action      string           `json:"action"`
	KeyID       string           `json:"key_id"`
	Version     int              `json:"version"`
	Hint        string           `json:"hint"`
	Fingerprint string           `json:"fingerprint"`
	RequestID   string           `json:"request_id"`
	Detail      json.RawMessage  `json:"detail"`
	PrevHash    string           `json:"prev_hash"`
	Hash        string           `json:"hash"`
}

func toAuditJSON(e keygate.AuditEvent) auditJSON {
	detail := json.RawMessage(e.Detail)
	if len(detail) == 0 || !json.Valid(detail) {
		detail = json.RawMessage("{}")
	}
	return auditJSON{
		Seq: e.Seq, ID: e.ID, Time: e.Time, Actor: actorJSON{ID: e.ActorID, Name: e.ActorName},
		Tenant: e.Tenant, Provider: e.Provider, Action: e.Action, KeyID: e.KeyID, Version: e.Version,
		Hint: e.Hint, Fingerprint: e.Fingerprint, RequestID: e.RequestID, Detail: detail,
		PrevHash: e.PrevHash, Hash: e.Hash,
	}
}

const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

// auditFilter reads the query: provider, action, since, until (RFC 3339),
// before (a seq, for paging) and limit (1-1000).
func auditFilter(q map[string][]string) (keygate.AuditFilter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	f := keygate.AuditFilter{Provider: get("provider"), Action: get("action"), Limit: defaultAuditLimit}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, keygate.Errorf(keygate.CodeInvalidRequest, "%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z.", p.name)
			}
			*p.dst = t.UTC()
		}
	}
	if v := get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return f, keygate.Errorf(keygate.CodeInvalidRequest, "before must be a positive event sequence number.")
		}
		f.BeforeSeq = n
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAuditLimit {
			return f, keygate.Errorf(keygate.CodeInvalidRequest, "limit must be between 1 and %d.", maxAuditLimit)
		}
		f.Limit = n
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, keygate.Errorf(keygate.CodeInvalidRequest, "until must be after since.")
	}
	return f, nil
}

func (a *API) handleAuditList(c *call) (int, any, error) {
	q := c.r.URL.Query()
	f, err := auditFilter(q)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case c.tenant.ID != "":
		f.Tenant = c.tenant.ID
	case q.Get("tenant") != "":
		ref := q.Get("tenant")
		if ref == string(keygate.PlatformScope) {
			f.Tenant = keygate.PlatformScope
			break
		}
		t, err := a.d.Store.GetTenant(c.r.Context(), ref)
		switch {
		case err == nil:
			f.Tenant = t.ID
		case keygate.IsCode(err, keygate.CodeNotFound) && strings.HasPrefix(ref, "tn_"):
			// A deleted tenant's events are kept: its id still selects
			// them (its name, gone with it, does not).
			f.Tenant = keygate.TenantID(ref)
		default:
			return 0, nil, a.notFoundRef(err, "Tenant %s does not exist (a deleted tenant's events are found by its tn_ id).", ref)
		}
	}
	evs, err := a.d.Store.ListAudit(c.r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	out := make([]auditJSON, 0, len(evs))
	for _, e := range evs {
		out = append(out, toAuditJSON(e))
	}
	var next int64
	if len(evs) == f.Limit {
		next = evs[len(evs)-1].Seq
	}
	return http.StatusOK, map[string]any{"events": out, "next_before": next}, nil
}

type verifyJSON struct {
	OK       bool   `json:"ok"`
	Events   int64  `json:"events"`
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	Error    string `json:"error"`
}

// handleAuditVerify checks the whole chain, with the audit keys.
func (a *API) handleAuditVerify(c *call) (int, any, error) {
	return a.verify(c, nil)
}

// verifyRequest is the body of POST /audit/verify: a checkpoint published
// earlier, which the trail must still contain.
type verifyRequest struct {
	Checkpoint *audit.Checkpoint `json:"checkpoint"`
}

// handleAuditVerifyCheckpoint checks the chain and that it still holds the
// event of a signed checkpoint: a checkpoint that does not verify, or a
// trail that lost or rewrote that event, is a broken chain (ok false).
func (a *API) handleAuditVerifyCheckpoint(c *call) (int, any, error) {
	var req verifyRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	cp := req.Checkpoint
	if cp == nil || cp.Seq < 0 || cp.Signature == "" || cp.KeyID == "" {
		return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "checkpoint: a checkpoint with seq, hash, time, key_id and signature is required.")
	}
	if a.d.AuditKeys == nil {
		return 0, nil, keygate.Errorf(keygate.CodeUnsupported, "This server does not seal its audit trail, so it has no checkpoints to check.")
	}
	if err := a.d.AuditKeys.CheckpointOK(c.r.Context(), *cp); errors.Is(err, audit.ErrBadCheckpoint) {
		seq, hash, herr := a.d.Store.AuditHead(c.r.Context())
		if herr != nil {
			return 0, nil, herr
		}
		return http.StatusOK, verifyJSON{HeadSeq: seq, HeadHash: hash, Error: err.Error()}, nil
	} else if err != nil {
		return 0, nil, err
	}
	return a.verify(c, cp)
}

func (a *API) verify(c *call, cp *audit.Checkpoint) (int, any, error) {
	opt := audit.Options{Checkpoint: cp}
	if a.d.AuditKeys != nil {
		opt.MACs = a.d.AuditKeys
	}
	res, err := audit.Verify(c.r.Context(), a.d.Store, opt)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, verifyJSON{OK: res.OK, Events: res.Events, HeadSeq: res.HeadSeq, HeadHash: res.HeadHash, Error: res.Problem}, nil
}

// handleAuditCheckpoint answers a signed checkpoint of the trail's head,
// to keep outside the database.
func (a *API) handleAuditCheckpoint(c *call) (int, any, error) {
	if a.d.AuditKeys == nil {
		return 0, nil, keygate.Errorf(keygate.CodeUnsupported, "This server does not seal its audit trail, so it cannot sign checkpoints.")
	}
	cp, err := a.d.AuditKeys.Checkpoint(c.r.Context(), a.d.Store, a.d.Now())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, cp, nil
}
