package scimapi

import (
	"fmt"
	"testing"

	"github.com/scimgate/scimgate/scimapi/schema"
)

func TestFilterCache(t *testing.T) {
	reg := schema.NewRegistry()
	var fc filterCache
	a, err := fc.compile(reg.Users(), `userName eq "a"`, false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := fc.compile(reg.Users(), `userName eq "a"`, false)
	if a != b {
		t.Fatal("same filter compiled twice")
	}
	if g, _ := fc.compile(reg.Groups(), `displayName eq "a"`, false); g == a {
		t.Fatal("types share an entry")
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
		if _, err := fc.compile(reg.Users(), fmt.Sprintf(`userName eq "u%d"`, i), false); err != nil {
			t.Fatal(err)
		}
	}
	if len(fc.m) > filterCacheSize {
		t.Fatalf("cache grew to %d", len(fc.m))
	}
}
