package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestTTLCacheBoundedAndExpiring(t *testing.T) {
	c := newTTLCache[int](100)
	now := time.Unix(1e9, 0)
	for i := range 1000 {
		c.put(fmt.Sprint(i), i, now, now.Add(time.Minute))
		if c.len() > 100 {
			t.Fatalf("cache grew to %d entries, cap 100", c.len())
		}
	}
	c.put("x", 1, now, now.Add(time.Second))
	if v, ok := c.get("x", now.Add(999*time.Millisecond)); !ok || v != 1 {
		t.Fatal("entry missing before its deadline")
	}
	if _, ok := c.get("x", now.Add(time.Second)); ok {
		t.Fatal("entry served at its deadline")
	}
	off := newTTLCache[int](0)
	off.put("x", 1, now, now.Add(time.Minute))
	if _, ok := off.get("x", now); ok {
		t.Fatal("zero-size cache stored an entry")
	}
}
