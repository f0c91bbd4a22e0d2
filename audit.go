package keygate

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
	ActionPolicyUpdated   = "policy.updated"
	ActionBudgetUpdated   = "budget.updated"
	ActionLimitsUpdated   = "limits.updated"
	ActionKeyStatus       = "key.status_changed"
	ActionMasterKeyRotate = "master_key.rotated"
)

// AuditEvent is one row of the append-only audit trail. Rows form a hash
// chain: each carries the hash of the previous row, so a deleted or edited row
// is detectable (see Hash and VerifyChain).
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
}

// ComputeHash returns the chain hash of e given the previous row's hash: the
// hex SHA-256 of every field but Hash, each length-prefixed so no two
// different events encode the same. Stores call it inside the transaction
// that appends e.
func (e *AuditEvent) ComputeHash(prev string) string {
	h := sha256.New()
	var n [8]byte
	writeInt := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	writeStr := func(s string) {
		writeInt(int64(len(s)))
		h.Write([]byte(s))
	}
	writeStr("keygate.audit.v1")
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
	writeStr(prev)
	return hex.EncodeToString(h.Sum(nil))
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
