// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxCachedStmts bounds the statements a stmtCache keeps. The store's read
// statements are a few dozen fixed texts (usage reports add one per
// combination of filters and groupings); texts beyond the bound run
// unprepared, as every statement did before.
const maxCachedStmts = 256

// stmtCache keeps the prepared statements of one pool, by SQL text, so that
// SQLite parses each of the store's statements once per connection instead
// of once per call: for the gateway's cache refills (tenant, policy,
// budget, limits, key, token), parsing cost more than running the query.
//
// A text is prepared after the transaction that first ran it has ended,
// never inside it: preparing on the pool inside a transaction could wait
// for a connection that transactions like it hold.
type stmtCache struct {
	pool    *sql.DB
	mu      sync.RWMutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool // seen, to be prepared when its transaction ends
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the prepared statement of q, or nil when it is not prepared
// yet (q is then noted for prepare) or the cache is full.
func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.RLock()
	s, ok := c.stmts[q]
	noted := !ok && !c.room(q) // noted already, full or closed
	c.mu.RUnlock()
	if ok || noted {
		return s
	}
	c.mu.Lock()
	if c.room(q) {
		c.pending[q] = true
	}
	c.mu.Unlock()
	return nil
}

// room reports whether q can be noted for prepare: neither cached nor
// noted, and the cache open and not full. The caller holds mu.
func (c *stmtCache) room(q string) bool {
	_, cached := c.stmts[q]
	return !cached && c.stmts != nil && !c.pending[q] && len(c.stmts)+len(c.pending) < maxCachedStmts
}

// prepare prepares the texts noted since the last call. A text that fails
// to prepare is dropped (and noted again when next seen); the statement
// itself ran unprepared and reported its own error.
func (c *stmtCache) prepare(ctx context.Context) {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	todo := make([]string, 0, len(c.pending))
	for q := range c.pending {
		todo = append(todo, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range todo {
		s, err := c.pool.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, ok := c.stmts[q]; ok || c.stmts == nil {
			_ = s.Close() // prepared meanwhile by another transaction, or closed
		} else {
			c.stmts[q] = s
		}
		c.mu.Unlock()
	}
}

// close releases every prepared statement; later gets return nil.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, s := range c.stmts {
		errs = append(errs, s.Close())
	}
	c.stmts = nil
	clear(c.pending)
	return errors.Join(errs...)
}
