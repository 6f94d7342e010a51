package scimapi_test

import (
	"fmt"
	"testing"
)

// BenchmarkGetEntraUserByID reads a user as Entra provisions it (name,
// emails, enterprise extension) who is a member of two groups: the
// response carries the stored attributes and the groups. Run with
// -benchmem to see allocations per request.
func BenchmarkGetEntraUserByID(b *testing.B) {
	e := newBenchEnv(b)
	e.env.t = &testing.T{}
	u := e.must(e.do("POST", "/scim/v2/Users", entraUser("ada@example.com", "ext-ada")), 201)
	id := str(u.body["id"])
	for i := range 2 {
		e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": fmt.Sprintf("g%d", i), "members": []any{map[string]any{"value": id}}}), 201)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.serve(b, "GET", "/scim/v2/Users/"+id, "", 200)
	}
}
