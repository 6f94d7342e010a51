package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestTTLCacheBoundedAndExpiring(t *testing.T) {
	c := newTTLCache[int](100, 0)
	now := time.Unix(1e9, 0)
	for i := range 1000 {
		c.put(fmt.Sprint(i), i, 8, now, now.Add(time.Minute))
		if c.len() > 100 {
			t.Fatalf("cache grew to %d entries, cap 100", c.len())
		}
	}
	c.put("x", 1, 8, now, now.Add(time.Second))
	if v, ok := c.get("x", now.Add(999*time.Millisecond)); !ok || v != 1 {
		t.Fatal("entry missing before its deadline")
	}
	if _, ok := c.get("x", now.Add(time.Second)); ok {
		t.Fatal("entry served at its deadline")
	}
	off := newTTLCache[int](0, 0)
	off.put("x", 1, 8, now, now.Add(time.Minute))
	if _, ok := off.get("x", now); ok {
		t.Fatal("zero-size cache stored an entry")
	}
}

// TestTTLCacheExpiresOnTimeNotOnlyWhenFull: entries past their deadline
// are gone after the next access to any key, and the bytes they counted
// are released, though the cache is far from full.
func TestTTLCacheExpiresOnTimeNotOnlyWhenFull(t *testing.T) {
	c := newTTLCache[int](10000, 0)
	now := time.Unix(1e9, 0)
	for i := range 500 {
		c.put(fmt.Sprint(i), i, 100, now, now.Add(time.Second))
	}
	c.put("long", 1, 100, now, now.Add(time.Hour))
	if c.len() != 501 {
		t.Fatalf("%d entries, want 501", c.len())
	}
	if _, ok := c.get("unrelated", now.Add(time.Second)); ok {
		t.Fatal("unknown key found")
	}
	if c.len() != 1 {
		t.Fatalf("%d entries after the deadline of 500 of them, want 1", c.len())
	}
	if got, want := c.size(), int64(100+len("long")+ttlEntryOverhead); got != want {
		t.Fatalf("size %d after expiry, want %d", got, want)
	}
}

// TestTTLCacheByteBoundEvictsNearestDeadline: a put past the byte bound
// evicts the entries nearest their deadline first; a value larger than
// the whole bound is not stored.
func TestTTLCacheByteBoundEvictsNearestDeadline(t *testing.T) {
	per := int64(1000 + 1 + ttlEntryOverhead)
	c := newTTLCache[int](1000, 10*per)
	now := time.Unix(1e9, 0)
	for i := range 10 {
		c.put(fmt.Sprint(i), i, 1000, now, now.Add(time.Duration(i+1)*time.Minute))
	}
	if c.len() != 10 || c.size() != 10*per {
		t.Fatalf("%d entries, %d bytes", c.len(), c.size())
	}
	c.put("a", 42, 1000, now, now.Add(time.Hour))
	if c.len() != 10 || c.size() > 10*per {
		t.Fatalf("over the byte bound: %d entries, %d bytes", c.len(), c.size())
	}
	if _, ok := c.get("0", now); ok {
		t.Fatal("the entry nearest its deadline survived the eviction")
	}
	for _, k := range []string{"1", "9", "a"} {
		if _, ok := c.get(k, now); !ok {
			t.Fatalf("entry %s evicted", k)
		}
	}
	c.put("huge", 1, int(11*per), now, now.Add(time.Hour))
	if _, ok := c.get("huge", now); ok || c.len() != 10 {
		t.Fatal("a value over the whole byte bound was stored")
	}
	// Replacing a key does not count it twice.
	c.put("a", 43, 1000, now, now.Add(time.Hour))
	if v, _ := c.get("a", now); v != 43 || c.size() != 10*per {
		t.Fatalf("replace: value %d, %d bytes", v, c.size())
	}
}
