package keygate_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/keygate/keygate"
)

func TestAuditHashCoversEveryField(t *testing.T) {
	base := keygate.AuditEvent{
		Seq: 7, ID: "ev_1", Time: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), ActorID: "at_1",
		ActorName: "ci", Tenant: "tn_1", Provider: "openai", Action: keygate.ActionKeySet, KeyID: "pk_1",
		Version: 1, Hint: "...abcd", Fingerprint: "fp_1", RequestID: "req_1", Detail: "{}",
	}
	h := base.ComputeHash("prev")
	if h != base.ComputeHash("prev") {
		t.Fatal("hash is not deterministic")
	}
	if h == base.ComputeHash("other") {
		t.Error("hash ignores the previous hash")
	}
	v := reflect.ValueOf(&base).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		if name == "Hash" || name == "PrevHash" {
			continue
		}
		changed := base
		f := reflect.ValueOf(&changed).Elem().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Int, reflect.Int64:
			f.SetInt(f.Int() + 1)
		case reflect.Struct:
			f.Set(reflect.ValueOf(base.Time.Add(time.Microsecond)))
		}
		if changed.ComputeHash("prev") == h {
			t.Errorf("changing %s does not change the hash", name)
		}
	}
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
