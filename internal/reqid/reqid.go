// SPDX-License-Identifier: Apache-2.0

// Package reqid carries the request id of an HTTP request through its
// context, so logs, audit events and responses name the same request.
package reqid

import (
	"context"
	"encoding/hex"
	"io"
)

type ctxKey struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the request id in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// New returns a fresh request id ("req_" and 24 hex digits) read from random.
func New(random io.Reader) string {
	var b [12]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; a request id
		// is not a secret, so a constant is an acceptable last resort.
		return "req_000000000000000000000000"
	}
	return "req_" + hex.EncodeToString(b[:])
}

// StatusClientClosed is the status the access log and the usage ledger
// give a request whose client went away before its answer was complete
// (nginx's 499). Nothing is written with it: no one is listening.
const StatusClientClosed = 499

// Info is what the handlers of a request tell the access log about it. The
// server's middleware puts one in every request's context; handlers fill
// what they know. Fields are only ever set by the goroutine serving the
// request.
type Info struct {
	// Status, when set, replaces the status the response writer saw: 499
	// for a client that went away mid-response.
	Status    int
	Tenant    string
	Provider  string
	Model     string
	KeySource string
}

type infoKey struct{}

// WithInfo returns ctx carrying info.
func WithInfo(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// InfoFrom returns the request's Info, or a throwaway one if there is none,
// so handlers never need to check.
func InfoFrom(ctx context.Context) *Info {
	if i, ok := ctx.Value(infoKey{}).(*Info); ok {
		return i
	}
	return &Info{}
}
