package auth

import (
	"sync"
	"time"
)

// principalCache remembers verified principals for a short time. Entries
// end at the earlier of ttl after verification and the credential's own
// expiry. It is bounded: when full, expired entries are dropped, and if
// that is not enough the cache starts over.
type principalCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	p     *Principal
	until time.Time
}

func newPrincipalCache(ttl time.Duration, max int) *principalCache {
	return &principalCache{ttl: ttl, max: max, entries: map[string]cacheEntry{}}
}

func (c *principalCache) get(key string, now time.Time) (*Principal, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	if !now.Before(e.until) {
		delete(c.entries, key)
		return nil, false
	}
	p := *e.p // callers get their own copy
	return &p, true
}

func (c *principalCache) put(key string, p *Principal, now, expires time.Time) {
	if c.ttl <= 0 {
		return
	}
	until := now.Add(c.ttl)
	if !expires.IsZero() && expires.Before(until) {
		until = expires
	}
	cp := *p
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			c.entries = map[string]cacheEntry{}
		}
	}
	c.entries[key] = cacheEntry{p: &cp, until: until}
}
