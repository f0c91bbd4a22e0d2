// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/keygate/keygate"
)

// priceImportColumns are the columns of price_imports that lists read.
const priceImportColumns = `version, imported_at, source, digest, entries, skipped, actor`

func scanPriceImport(row Row, withPrices bool) (keygate.PriceImport, error) {
	var p keygate.PriceImport
	dest := []any{&p.Version, timeDest{&p.ImportedAt}, &p.Source, &p.Digest, &p.Entries, &p.Skipped, &p.Actor}
	var prices string
	if withPrices {
		dest = append(dest, &prices)
	}
	if err := row.Scan(dest...); err != nil {
		return keygate.PriceImport{}, err
	}
	if withPrices {
		p.Prices = []byte(prices)
	}
	return p, nil
}

// latestPriceImport reads the newest price list in tx; not_found if none.
func (s *Store) latestPriceImport(ctx context.Context, tx Tx) (keygate.PriceImport, error) {
	p, err := scanPriceImport(tx.QueryRowStmt(ctx, Stmt{s.d.render(`SELECT ` + priceImportColumns + `, prices
		FROM price_imports ORDER BY version DESC LIMIT 1`), nil}), true)
	if tx.NoRows(err) {
		return keygate.PriceImport{}, keygate.Errorf(keygate.CodeNotFound, "No price list was imported.")
	}
	return p, err
}

// ImportPrices stores p as the newest price list with ev, unless the
// newest already has its digest (then it returns that one and writes
// nothing).
func (s *Store) ImportPrices(ctx context.Context, p keygate.PriceImport, ev keygate.AuditEvent) (keygate.PriceImport, error) {
	if p.Source == "" || p.Digest == "" || len(p.Prices) == 0 {
		return keygate.PriceImport{}, keygate.Errorf(keygate.CodeInvalidRequest, "A price list needs a source, a digest and prices.")
	}
	var out keygate.PriceImport
	err := s.r.Write(ctx, "import prices", func(tx Tx) error {
		last, err := s.latestPriceImport(ctx, tx)
		switch {
		case err == nil && last.Digest == p.Digest:
			out = last
			return nil
		case err != nil && !keygate.IsCode(err, keygate.CodeNotFound):
			return fmt.Errorf("read newest price list: %w", err)
		}
		p.ImportedAt = tx.Now()
		if err := tx.QueryRowStmt(ctx, Stmt{s.d.render(`INSERT INTO price_imports
			(imported_at, source, digest, entries, skipped, actor, prices) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING version`),
			[]any{s.d.timeArg(p.ImportedAt), p.Source, p.Digest, p.Entries, p.Skipped, p.Actor, string(p.Prices)}}).Scan(&p.Version); err != nil {
			return fmt.Errorf("insert price list: %w", err)
		}
		ev.Action = keygate.ActionPricesImported
		ev.Detail = fmt.Sprintf(`{"version":%d,"source":%s,"entries":%d,"skipped":%d,"digest":%s}`,
			p.Version, strconv.Quote(p.Source), p.Entries, p.Skipped, strconv.Quote(p.Digest))
		tx.Announce(keygate.Change{Kind: keygate.ChangePrices, ID: strconv.FormatInt(p.Version, 10)})
		out = p
		return s.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.PriceImport{}, err
	}
	return out, nil
}

// ListPriceImports returns the stored price lists, newest first, without
// their prices.
func (s *Store) ListPriceImports(ctx context.Context) ([]keygate.PriceImport, error) {
	var out []keygate.PriceImport
	err := s.r.Read(ctx, "list price lists", func(tx Tx) (err error) {
		out, err = Collect(ctx, tx, Stmt{s.d.render(`SELECT ` + priceImportColumns + ` FROM price_imports ORDER BY version DESC`), nil},
			func(row Row) (keygate.PriceImport, error) { return scanPriceImport(row, false) })
		return err
	})
	return out, err
}

// LatestPriceImport returns the newest price list with its prices;
// not_found if none.
func (s *Store) LatestPriceImport(ctx context.Context) (keygate.PriceImport, error) {
	var out keygate.PriceImport
	err := s.r.Read(ctx, "read newest price list", func(tx Tx) (err error) {
		out, err = s.latestPriceImport(ctx, tx)
		return err
	})
	return out, err
}
