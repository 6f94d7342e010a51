package auth

import (
	"container/heap"
	"sync"
	"time"
)

// ttlCache is a map bounded in entries and in bytes whose entries end at
// their own deadline. Entries are kept in a min-heap by deadline: every
// get and put first drops the entries whose deadline has passed (so
// entries expire on time under any traffic, not only when the cache is
// full), and a put into a full cache evicts the entries nearest their
// deadline until the new one fits. Keys are fixed-size hashes chosen by
// the caller (never raw client input); the byte bound counts the caller's
// estimate of each value plus the key and a fixed overhead per entry.
type ttlCache[V any] struct {
	maxEntries int
	maxBytes   int64

	mu      sync.Mutex
	entries map[string]*ttlEntry[V]
	order   expiryHeap[V]
	bytes   int64
}

type ttlEntry[V any] struct {
	key   string
	v     V
	until time.Time
	size  int64
	index int // in order
}

// ttlEntryOverhead approximates an entry's bookkeeping (map slot, heap
// slot, entry struct) for the byte bound.
const ttlEntryOverhead = 128

// newTTLCache returns a cache of at most maxEntries entries and maxBytes
// bytes (no byte bound when maxBytes ≤ 0); maxEntries ≤ 0 disables it.
func newTTLCache[V any](maxEntries int, maxBytes int64) *ttlCache[V] {
	return &ttlCache[V]{maxEntries: maxEntries, maxBytes: maxBytes, entries: map[string]*ttlEntry[V]{}}
}

func (c *ttlCache[V]) get(key string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	return c.found(c.entries[key])
}

// getBytes is get with the key as bytes: the map lookup by string(key)
// does not allocate.
func (c *ttlCache[V]) getBytes(key []byte, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	return c.found(c.entries[string(key)])
}

func (c *ttlCache[V]) found(e *ttlEntry[V]) (V, bool) {
	if e == nil {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put stores v under key until until; size is the caller's estimate of
// v's bytes. A value that alone exceeds the byte bound is not stored.
func (c *ttlCache[V]) put(key string, v V, size int, now, until time.Time) {
	if c.maxEntries <= 0 || !now.Before(until) {
		return
	}
	cost := int64(size) + int64(len(key)) + ttlEntryOverhead
	if c.maxBytes > 0 && cost > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if e, ok := c.entries[key]; ok {
		c.remove(e)
	}
	for len(c.entries) > 0 && (len(c.entries) >= c.maxEntries || (c.maxBytes > 0 && c.bytes+cost > c.maxBytes)) {
		c.remove(c.order[0])
	}
	e := &ttlEntry[V]{key: key, v: v, until: until, size: cost}
	heap.Push(&c.order, e)
	c.entries[key] = e
	c.bytes += cost
}

// expire drops every entry whose deadline is not after now.
func (c *ttlCache[V]) expire(now time.Time) {
	for len(c.order) > 0 && !now.Before(c.order[0].until) {
		c.remove(c.order[0])
	}
}

func (c *ttlCache[V]) remove(e *ttlEntry[V]) {
	heap.Remove(&c.order, e.index)
	delete(c.entries, e.key)
	c.bytes -= e.size
}

func (c *ttlCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// size returns the bytes counted against the byte bound.
func (c *ttlCache[V]) size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// expiryHeap orders entries by deadline (container/heap).
type expiryHeap[V any] []*ttlEntry[V]

func (h expiryHeap[V]) Len() int           { return len(h) }
func (h expiryHeap[V]) Less(i, j int) bool { return h[i].until.Before(h[j].until) }
func (h expiryHeap[V]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *expiryHeap[V]) Push(x any) {
	e := x.(*ttlEntry[V])
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *expiryHeap[V]) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
