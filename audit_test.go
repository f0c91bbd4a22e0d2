// SPDX-License-Identifier: Apache-2.0

package keygate_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/keygate/keygate"
)

func auditBase() keygate.AuditEvent {
	return keygate.AuditEvent{
		Seq: 7, ID: "ev_1", Time: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), ActorID: "at_1",
		ActorName: "ci", Tenant: "tn_1", Provider: "openai", Action: keygate.ActionKeySet, KeyID: "pk_1",
		Version: 1, Hint: "...abcd", Fingerprint: "fp_1", RequestID: "req_1", Detail: "{}",
	}
}

// eachFieldChanged calls f with the name of each field of base but Hash
// and PrevHash and a copy of base with that field changed.
func eachFieldChanged(base keygate.AuditEvent, f func(name string, changed keygate.AuditEvent)) {
	v := reflect.ValueOf(&base).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		if name == "Hash" || name == "PrevHash" {
			continue
		}
		changed := base
		fv := reflect.ValueOf(&changed).Elem().Field(i)
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(fv.String() + "x")
		case reflect.Int, reflect.Int64:
			fv.SetInt(fv.Int() + 1)
		case reflect.Struct:
			fv.Set(reflect.ValueOf(base.Time.Add(time.Microsecond)))
		}
		f(name, changed)
	}
}

// TestAuditMACCoversEveryField: the keyed hash depends on every field (the
// key id too), on the previous hash and on the key, and never equals the
// plain hash of the same event.
func TestAuditMACCoversEveryField(t *testing.T) {
	base := auditBase()
	base.MACKeyID = "ak_1"
	key := []byte("0123456789abcdef0123456789abcdef")
	m := base.ComputeMAC(key, "prev")
	if m != base.ComputeMAC(key, "prev") {
		t.Fatal("MAC is not deterministic")
	}
	if m == base.ComputeMAC(key, "other") {
		t.Error("MAC ignores the previous hash")
	}
	if m == base.ComputeMAC([]byte("another key, another key, anoth!"), "prev") {
		t.Error("MAC ignores the key")
	}
	if m == base.ComputeHash("prev") {
		t.Error("MAC equals the plain hash")
	}
	eachFieldChanged(base, func(name string, changed keygate.AuditEvent) {
		if changed.ComputeMAC(key, "prev") == m {
			t.Errorf("changing %s does not change the MAC", name)
		}
	})
	// Persisted: every sealed event ever written must keep verifying.
	const vector = "23ae83595c25a5d4222a4b00b93fa0b5dc3084ce97a4712b9bdc9fd2311cfa83"
	if m != vector {
		t.Errorf("MAC of the test event = %s, want the committed vector %s", m, vector)
	}
}

func TestAuditHashCoversEveryField(t *testing.T) {
	base := auditBase()
	h := base.ComputeHash("prev")
	if h != base.ComputeHash("prev") {
		t.Fatal("hash is not deterministic")
	}
	if h == base.ComputeHash("other") {
		t.Error("hash ignores the previous hash")
	}
	eachFieldChanged(base, func(name string, changed keygate.AuditEvent) {
		// The plain hash of events from before keyed sealing has no key
		// id: they have none.
		if name != "MACKeyID" && changed.ComputeHash("prev") == h {
			t.Errorf("changing %s does not change the hash", name)
		}
	})
}

func TestValidateTenantName(t *testing.T) {
	for _, ok := range []string{"acme", "a", "acme-corp.eu_1", "0day"} {
		if err := keygate.ValidateTenantName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Acme", "-acme", "tn_abc", "platform", "a b", "acme\n", string(make([]byte, 64))} {
		if keygate.ErrorCode(keygate.ValidateTenantName(bad)) != keygate.CodeInvalidRequest {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestAuditHashVector: the plain hash of events from before keyed sealing
// is persisted; it must never change.
func TestAuditHashVector(t *testing.T) {
	base := auditBase()
	const vector = "e36299eb132717b2def7a8b1c1580e4ed112cac763c8178496e5329ff0444e38"
	if got := base.ComputeHash("prev"); got != vector {
		t.Errorf("hash of the test event = %s, want the committed vector %s", got, vector)
	}
}
