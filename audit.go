// SPDX-License-Identifier: Apache-2.0

package keygate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"time"
)

// Audit actions, persisted: never rename.
const (
	ActionTenantCreated   = "tenant.created"
	ActionTenantDeleted   = "tenant.deleted"
	ActionBYOKEnabled     = "byok.enabled"
	ActionBYOKDisabled    = "byok.disabled"
	ActionKeySet          = "key.set"
	ActionKeyRotated      = "key.rotated"
	ActionKeyCleared      = "key.cleared"
	ActionKeyRolledBack   = "key.rolled_back"
	ActionKeyTested       = "key.tested"
	ActionTokenCreated    = "token.created"
	ActionTokenRevoked    = "token.revoked"
	ActionTokenScoped     = "token.scope_updated"
	ActionPolicyUpdated   = "policy.updated"
	ActionBudgetUpdated   = "budget.updated"
	ActionLimitsUpdated   = "limits.updated"
	ActionKeyStatus       = "key.status_changed"
	ActionMasterKeyRotate = "master_key.rotated"
	ActionMasterKeyRetire = "master_key.retired"
	// ActionAuditKeyCreated: a new audit MAC key seals the events from
	// this one on (first start with keyed audit, master-key rotation).
	ActionAuditKeyCreated = "audit.key_created"
	// ActionPricesImported: a price list imported (Detail: its version,
	// source, entry count and digest).
	ActionPricesImported = "prices.imported"
)

// AuditEvent is one row of the append-only audit trail. Rows form a hash
// chain: each carries the hash of the previous row, so a deleted or edited row
// is detectable. Rows sealed by an audit MAC key (MACKeyID set) carry an
// HMAC that only the holder of the master key can recompute (ComputeMAC);
// rows written before keyed sealing carry a plain SHA-256 (ComputeHash).
type AuditEvent struct {
	Seq       int64 // position in the chain, from 1; assigned by the store
	ID        string
	Time      time.Time
	ActorID   string
	ActorName string
	Tenant    TenantID // empty for events about no tenant
	Provider  string
	Action    string
	KeyID     string
	Version   int
	Hint      string
	// Fingerprint is the key's HMAC fingerprint, never the key.
	Fingerprint string
	RequestID   string
	// Detail is a JSON object without secrets; empty means {}.
	Detail   string
	PrevHash string // hex; "" for the first row
	Hash     string // hex
	// MACKeyID names the audit MAC key whose HMAC Hash is ("ak_..."); ""
	// for rows chained with plain SHA-256 before keyed sealing.
	MACKeyID string
}

// ComputeHash returns the chain hash of e given the previous row's hash: the
// hex SHA-256 of every field but Hash, each length-prefixed so no two
// different events encode the same. Stores call it inside the transaction
// that appends e.
func (e *AuditEvent) ComputeHash(prev string) string {
	h := sha256.New()
	e.encode(h, "keygate.audit.v1", prev, false)
	return hex.EncodeToString(h.Sum(nil))
}

// ComputeMAC returns the keyed chain hash of e given the previous row's
// hash: the hex HMAC-SHA256 under key (the audit MAC key e.MACKeyID) of the
// same length-prefixed fields as ComputeHash, under its own label, with
// e.MACKeyID too. Without key no one can recompute it, so a row rewritten
// by someone who holds only the database does not verify.
func (e *AuditEvent) ComputeMAC(key []byte, prev string) string {
	h := hmac.New(sha256.New, key)
	e.encode(h, "keygate.audit.v2.hmac", prev, true)
	return hex.EncodeToString(h.Sum(nil))
}

// encode writes the canonical encoding of e and prev to h under label;
// withKeyID adds MACKeyID (the keyed encoding).
func (e *AuditEvent) encode(h hash.Hash, label, prev string, withKeyID bool) {
	var n [8]byte
	writeInt := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	writeStr := func(s string) {
		writeInt(int64(len(s)))
		h.Write([]byte(s))
	}
	writeStr(label)
	writeInt(e.Seq)
	writeStr(e.ID)
	writeInt(e.Time.UnixMicro())
	writeStr(e.ActorID)
	writeStr(e.ActorName)
	writeStr(string(e.Tenant))
	writeStr(e.Provider)
	writeStr(e.Action)
	writeStr(e.KeyID)
	writeInt(int64(e.Version))
	writeStr(e.Hint)
	writeStr(e.Fingerprint)
	writeStr(e.RequestID)
	writeStr(e.Detail)
	if withKeyID {
		writeStr(e.MACKeyID)
	}
	writeStr(prev)
}

// AuditSealer seals audit events with a keyed MAC. A store that has one
// calls it inside the transaction that appends each event.
type AuditSealer interface {
	// SealAudit sets ev.MACKeyID to the current audit MAC key and ev.Hash
	// to ev.ComputeMAC under that key, chained onto prev. Every other
	// field of ev is final. Errors: no audit key is loaded.
	SealAudit(ev *AuditEvent, prev string) error
}

// AuditFilter selects audit events. Zero fields do not filter.
type AuditFilter struct {
	Tenant   TenantID
	Provider string
	Action   string
	Since    time.Time // inclusive
	Until    time.Time // exclusive
	// BeforeSeq pages backwards: only events with Seq < BeforeSeq.
	BeforeSeq int64
	// Limit caps the number of events; the store applies a default of 100
	// and a maximum of 1000.
	Limit int
}
