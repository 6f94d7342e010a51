package filter

import (
	"strconv"
	"testing"

	"github.com/scimgate/scimgate/scimapi/schema"
)

// BenchmarkCompileDistinct compiles filters that differ only in their
// literal, as an IdP's initial sync sends them (a different userName per
// lookup), so no cache keyed by the text helps. Run with -benchmem.
func BenchmarkCompileDistinct(b *testing.B) {
	rt := schema.NewRegistry().Users()
	for _, bc := range []struct{ name, pre, post string }{
		{"userNameEq", `userName eq "u`, `@example.com"`},
		{"externalIdAndActive", `externalId eq "e`, `" and active eq true`},
		{"twoStrings", `userName eq "u`, `@example.com" and name.familyName eq "Jensen"`},
		{"entraValuePath", `emails[type eq "work"].value eq "u`, `@example.com"`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				f, err := Compile(rt, bc.pre+strconv.Itoa(i)+bc.post)
				if err != nil || f == nil {
					b.Fatal(err)
				}
			}
		})
	}
}
