// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"sync"

	"github.com/keygate/keygate"
)

// Changes is the list of a store's change subscribers
// (keygate.ChangeSubscriber). The zero value has none and is ready to use.
type Changes struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(keygate.Change)
}

// Subscribe registers f (keygate.ChangeSubscriber).
func (c *Changes) Subscribe(f func(keygate.Change)) (unsubscribe func()) {
	c.mu.Lock()
	if c.subs == nil {
		c.subs = map[int]func(keygate.Change){}
	}
	id := c.next
	c.next++
	c.subs[id] = f
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.subs, id)
		c.mu.Unlock()
	}
}

// Publish calls every subscriber with each of changes, in order. A store
// calls it after its transaction committed, before the write returns.
func (c *Changes) Publish(changes ...keygate.Change) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, ch := range changes {
		for _, f := range c.subs {
			f(ch)
		}
	}
}
