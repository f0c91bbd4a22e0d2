// SPDX-License-Identifier: Apache-2.0

package envelope

import (
	"container/list"
	"crypto/cipher"
	"sync"
)

// DefaultCacheSize is the number of unwrapped data keys a Keyring keeps when
// Options.CacheSize is zero. One entry per stored key version read; each
// holds a ready AES-GCM cipher of about 2.3 KiB (the key schedule and GHASH
// tables; measured with a heap profile), so a full cache holds about
// 10 MiB.
const DefaultCacheSize = 4096

// cacheKey names one wrapped DEK. Both the KEK id and the wrapped bytes are
// part of it: after a rewrap the same DEK has a new key, and a modified
// wrapped DEK never hits an entry made for the original.
type cacheKey struct {
	kekID   string
	wrapped string
}

type cacheEntry struct {
	key  cacheKey
	aead cipher.AEAD
}

// dekCache is a bounded LRU of unwrapped data keys, so a warm Open makes no
// KEK call (a KMS round trip). It caches the ready cipher.AEAD rather than
// the DEK bytes: an AEAD is immutable and safe to share between goroutines,
// eviction cannot pull a key from under a concurrent reader, and the AES key
// schedule is computed once. Safe for concurrent use.
type dekCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // front: most recently used; values are *cacheEntry
	items map[cacheKey]*list.Element
}

func newDEKCache(max int) *dekCache {
	return &dekCache{max: max, ll: list.New(), items: make(map[cacheKey]*list.Element)}
}

// get returns the cached AEAD for k, if any.
func (c *dekCache) get(k cacheKey) (cipher.AEAD, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*cacheEntry).aead, true
}

// put stores aead under k, evicting the least recently used entry when full.
func (c *dekCache) put(k cacheKey, aead cipher.AEAD) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.ll.MoveToFront(el)
		el.Value.(*cacheEntry).aead = aead
		return
	}
	c.items[k] = c.ll.PushFront(&cacheEntry{key: k, aead: aead})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

// len returns the number of entries.
func (c *dekCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// remove drops the entry of k, if any.
func (c *dekCache) remove(k cacheKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.ll.Remove(el)
		delete(c.items, k)
	}
}

// purge drops every entry.
func (c *dekCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	clear(c.items)
}
