// SPDX-License-Identifier: Apache-2.0

package quota

import "sync"

// maxInterned bounds the key cache: about 8 keys per (tenant, provider) in
// use today, so 64Ki keys cover thousands of active tenants. When full it
// starts over, which costs one allocation per key until it is warm again.
const maxInterned = 1 << 16

// interner hands out one string per distinct counter key, so that a warm
// admission builds its keys on the stack and allocates none of them.
type interner struct {
	mu sync.RWMutex
	m  map[string]string
}

// intern returns the string for b; the lookup itself does not allocate.
func (in *interner) intern(b []byte) string {
	in.mu.RLock()
	s, ok := in.m[string(b)]
	in.mu.RUnlock()
	if ok {
		return s
	}
	s = string(b)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.m == nil || len(in.m) >= maxInterned {
		in.m = make(map[string]string)
	}
	in.m[s] = s
	return s
}
