package auth

import (
	"slices"
	"time"
)

// principalCache remembers verified principals for a short time. Entries
// end at the earlier of ttl after verification and the credential's own
// expiry. It is a ttlCache: bounded in entries and bytes, entries expire
// on time, and a full cache evicts the entries nearest their end. Keys are
// hashes of verified credentials (fixed size).
type principalCache struct {
	ttl   time.Duration
	cache *ttlCache[Principal]
}

// Bounds of every principal cache.
const (
	principalCacheEntries = 10000
	principalCacheBytes   = 8 << 20
)

func newPrincipalCache(ttl time.Duration) *principalCache {
	n := principalCacheEntries
	if ttl <= 0 {
		n = 0
	}
	return &principalCache{ttl: ttl, cache: newTTLCache[Principal](n, principalCacheBytes)}
}

func (c *principalCache) get(key string, now time.Time) (*Principal, bool) {
	p, ok := c.cache.get(key, now)
	return c.copyOut(p, ok)
}

// getBytes is get with the key as bytes (no string is built for it).
func (c *principalCache) getBytes(key []byte, now time.Time) (*Principal, bool) {
	p, ok := c.cache.getBytes(key, now)
	return c.copyOut(p, ok)
}

func (c *principalCache) copyOut(p Principal, ok bool) (*Principal, bool) {
	if !ok {
		return nil, false
	}
	p.Scopes = slices.Clone(p.Scopes) // callers get their own copy
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
	c.cache.put(key, *p, p.size(), now, until)
}

// size estimates p's bytes for a cache's byte bound.
func (p *Principal) size() int {
	n := len(p.ClientID) + len(p.ClientName) + len(p.Method) + len(p.CredentialID) + 16*len(p.Scopes)
	for _, s := range p.Scopes {
		n += len(s)
	}
	return n
}
