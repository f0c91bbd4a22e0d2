// SPDX-License-Identifier: Apache-2.0

package pricing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/keygate/keygate"
)

// Store is the part of keygate.Store that keeps imported price lists.
type Store interface {
	ImportPrices(ctx context.Context, p keygate.PriceImport, ev keygate.AuditEvent) (keygate.PriceImport, error)
	ListPriceImports(ctx context.Context) ([]keygate.PriceImport, error)
	LatestPriceImport(ctx context.Context) (keygate.PriceImport, error)
}

// Book keeps the table in effect (its Live) in step with the store: the
// embedded table, overlaid by the newest import, overlaid by the
// operator's prices_file. Reload reads it again; a server calls it when
// the store announces keygate.ChangePrices (here or on another replica).
type Book struct {
	*Live
	store Store
	file  string
	now   keygate.Clock
}

// NewBook returns a Book over store and the operator's file (empty for
// none), loaded (Reload). now dates imports (nil: time.Now).
func NewBook(ctx context.Context, store Store, overridePath string, now keygate.Clock) (*Book, error) {
	if now == nil {
		now = time.Now
	}
	b := &Book{Live: NewLive(nil), store: store, file: overridePath, now: now}
	if err := b.Reload(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// Reload makes the table in effect again from the store's newest import.
func (b *Book) Reload(ctx context.Context) error {
	var stored []byte
	latest, err := b.store.LatestPriceImport(ctx)
	switch {
	case err == nil:
		stored = latest.Prices
	case !keygate.IsCode(err, keygate.CodeNotFound):
		return fmt.Errorf("read imported prices: %w", err)
	}
	t, err := Effective(b.file, stored)
	if err != nil {
		return err
	}
	b.Set(t)
	return nil
}

// Versions returns the imported price lists, newest (in effect) first.
func (b *Book) Versions(ctx context.Context) ([]keygate.PriceImport, error) {
	return b.store.ListPriceImports(ctx)
}

// Import reads data as a price list of source (SourceLiteLLM,
// SourceOpenRouter, or "" to tell by its shape), stores it as the newest
// version with ev (the same file as the newest version is not stored
// again), and makes it effective. A file that does not parse, or that has
// no price keygate can use, imports nothing: invalid_request, saying why
// (and which entry).
func (b *Book) Import(ctx context.Context, source string, data []byte, ev keygate.AuditEvent) (keygate.PriceImport, *Imported, error) {
	if source == "" {
		source = DetectSource(data)
	}
	im, err := ParseImport(source, data)
	if err != nil {
		return keygate.PriceImport{}, nil, keygate.Errorf(keygate.CodeInvalidRequest, "The %s price list cannot be imported: %v.", source, err)
	}
	if im.Count() == 0 {
		return keygate.PriceImport{}, nil, keygate.Errorf(keygate.CodeInvalidRequest, "The %s price list has no token price for a provider keygate knows.", source)
	}
	file, err := im.File(b.now().UTC().Format(time.DateOnly))
	if err != nil {
		return keygate.PriceImport{}, nil, fmt.Errorf("encode imported prices: %w", err)
	}
	// The table it makes must load (with the operator's file) before it
	// is stored: a stored list that cannot load would stop every start.
	if _, err := Effective(b.file, file); err != nil {
		return keygate.PriceImport{}, nil, keygate.Errorf(keygate.CodeInvalidRequest, "The %s price list cannot be imported: %v.", source, err)
	}
	sum := sha256.Sum256(data)
	skipped := 0
	for _, n := range im.Skipped {
		skipped += n
	}
	p, err := b.store.ImportPrices(ctx, keygate.PriceImport{Source: source, Digest: hex.EncodeToString(sum[:]),
		Entries: im.Count(), Skipped: skipped, Actor: ev.ActorName, Prices: file}, ev)
	if err != nil {
		return keygate.PriceImport{}, nil, err
	}
	if err := b.Reload(ctx); err != nil {
		return keygate.PriceImport{}, nil, err
	}
	return p, im, nil
}
