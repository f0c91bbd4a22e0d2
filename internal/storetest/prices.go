// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/keygate/keygate"
)

// priceImport is a price list with digest d.
func priceImport(d string) keygate.PriceImport {
	return keygate.PriceImport{Source: "litellm", Digest: d, Entries: 2, Skipped: 1, Actor: "ops",
		Prices: []byte(`{"providers":{"openai":{"gpt-x":{"input":1,"output":2}}}}`)}
}

func ignoreNotFound(err error) error {
	if keygate.IsCode(err, keygate.CodeNotFound) {
		return nil
	}
	return err
}

// testPriceImports: imports are versioned, the newest is returned with its
// prices, the same file twice is one version, and each import is audited.
func testPriceImports(t *testing.T, e *env) {
	if _, err := e.s.LatestPriceImport(e.ctx); !keygate.IsCode(err, keygate.CodeNotFound) {
		t.Fatalf("LatestPriceImport of none: %v, want not_found", err)
	}
	first, err := e.s.ImportPrices(e.ctx, priceImport("d1"), event(keygate.ActionPricesImported, ""))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	second, err := e.s.ImportPrices(e.ctx, priceImport("d2"), event(keygate.ActionPricesImported, ""))
	if err != nil {
		t.Fatal(err)
	}
	var heard []keygate.Change
	unsubscribe := e.s.Subscribe(func(c keygate.Change) { heard = append(heard, c) })
	again, err := e.s.ImportPrices(e.ctx, priceImport("d2"), event(keygate.ActionPricesImported, ""))
	unsubscribe()
	if err != nil {
		t.Fatal(err)
	}
	if len(heard) != 0 {
		t.Errorf("importing the newest list again announced %+v, want nothing", heard)
	}
	if first.Version != 1 || second.Version != 2 || again.Version != 2 || !again.ImportedAt.Equal(second.ImportedAt) {
		t.Errorf("versions %d, %d, same file again %d (at %v, first at %v)", first.Version, second.Version, again.Version, again.ImportedAt, second.ImportedAt)
	}
	latest, err := e.s.LatestPriceImport(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := priceImport("d2")
	want.Version, want.ImportedAt = 2, start.Add(time.Minute)
	if diff := cmp.Diff(want, latest, cmpopts.EquateApproxTime(time.Millisecond)); diff != "" {
		t.Errorf("LatestPriceImport (-want +got):\n%s", diff)
	}
	list, err := e.s.ListPriceImports(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Version != 2 || list[1].Version != 1 || list[0].Prices != nil || list[1].Digest != "d1" {
		t.Errorf("ListPriceImports = %+v", list)
	}
	evs, err := e.s.ListAudit(e.ctx, keygate.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Action == keygate.ActionPricesImported {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d prices.imported audit events, want 2 (the repeat is not audited)", n)
	}
}
