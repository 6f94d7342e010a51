package scimapi

import (
	"fmt"
	"testing"

	"github.com/scimgate/scimgate/scimapi/schema"
)

func TestFilterCache(t *testing.T) {
	reg := schema.NewRegistry()
	var fc filterCache
	// Filters beyond the fast path's shapes are cached.
	const vp, gvp = `emails[type eq "work"].value eq "a"`, `members[value eq "a"]`
	a, err := fc.compile(reg.Users(), vp, false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := fc.compile(reg.Users(), vp, false)
	if a != b {
		t.Fatal("same filter compiled twice")
	}
	if g, _ := fc.compile(reg.Groups(), gvp, false); g == a || g == nil {
		t.Fatal("types share an entry")
	}
	// The simple shapes compile cheaply and stay out of the cache, so a
	// sync's distinct lookups do not evict the value-path filter above.
	n := len(fc.m)
	for i := 0; i < filterCacheSize+10; i++ {
		if _, err := fc.compile(reg.Users(), fmt.Sprintf(`userName eq "u%d" and active eq true`, i), false); err != nil {
			t.Fatal(err)
		}
	}
	if len(fc.m) != n {
		t.Fatalf("simple filters entered the cache: %d entries, want %d", len(fc.m), n)
	}
	if c, _ := fc.compile(reg.Users(), vp, false); c != a {
		t.Fatal("value-path filter evicted by simple lookups")
	}
	// The lenient and strict compilations of one text are different filters.
	if _, err := fc.compile(reg.Groups(), `userName eq "a"`, false); err == nil {
		t.Fatal("strict compile accepted an unknown attribute")
	}
	if _, err := fc.compile(reg.Groups(), `userName eq "a"`, true); err != nil {
		t.Fatalf("lenient: %v", err)
	}
	if _, err := fc.compile(reg.Users(), `userName eq`, false); err == nil {
		t.Fatal("syntax error accepted")
	}
	for i := 0; i < filterCacheSize+10; i++ {
		if _, err := fc.compile(reg.Users(), fmt.Sprintf(`userName eq "u%d" or userName eq "x"`, i), false); err != nil {
			t.Fatal(err)
		}
	}
	if len(fc.m) > filterCacheSize {
		t.Fatalf("cache grew to %d", len(fc.m))
	}
}
