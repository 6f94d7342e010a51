package scimapi_test

import (
	"fmt"
	"testing"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/scimapi"
)

func bulkOps(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{scimapi.BulkRequestURN}, "Operations": ops}
}

func bulkResults(t *testing.T, r resp) []map[string]any {
	t.Helper()
	raw, _ := r.body["Operations"].([]any)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i] = x.(map[string]any)
	}
	return out
}

// testBulk: RFC 7644 §3.7 — 1,000 users and 10 groups referencing them by
// bulkId in one request, then the error rules.
func testBulk(t *testing.T, e *env) {
	var ops []map[string]any
	for i := 0; i < 1000; i++ {
		ops = append(ops, map[string]any{"method": "POST", "path": "/Users", "bulkId": fmt.Sprintf("u%d", i),
			"data": map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": fmt.Sprintf("bulk%d", i)}})
	}
	// Groups come first for half of them: forward references must wait (§3.7.2).
	var groups []map[string]any
	for g := 0; g < 10; g++ {
		var members []any
		for i := g * 100; i < (g+1)*100; i++ {
			members = append(members, map[string]any{"value": fmt.Sprintf("bulkId:u%d", i)})
		}
		groups = append(groups, map[string]any{"method": "POST", "path": "/Groups", "bulkId": fmt.Sprintf("g%d", g),
			"data": map[string]any{"displayName": fmt.Sprintf("team %d", g), "members": members}})
	}
	all := append(append(groups[:5:5], ops...), groups[5:]...)
	r := e.must(e.do("POST", "/scim/v2/Bulk", bulkOps(all...)), 200)
	res := bulkResults(t, r)
	if len(res) != 1010 {
		t.Fatalf("%d results", len(res))
	}
	for _, x := range res {
		if x["status"] != "201" || x["location"] == nil || x["version"] == nil {
			t.Fatalf("result %v", x)
		}
	}
	if l := e.must(e.do("GET", "/scim/v2/Users?count=0", nil), 200); l.body["totalResults"] != float64(1000) {
		t.Fatalf("users %v", l.body["totalResults"])
	}
	gl := e.must(e.do("GET", "/scim/v2/Groups?filter="+urlq(`displayName eq "team 7"`), nil), 200)
	g7 := gl.body["Resources"].([]any)[0].(map[string]any)
	if ms := g7["members"].([]any); len(ms) != 100 {
		t.Fatalf("team 7 has %d members", len(ms))
	}

	// Errors: a failing op, an op depending on it, an unresolvable reference;
	// failOnErrors stops processing (§3.7.3).
	bad := bulkOps(
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "dup", "data": map[string]any{"userName": "bulk1"}},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "needsdup", "data": map[string]any{"displayName": "x", "members": []any{map[string]any{"value": "bulkId:dup"}}}},
		map[string]any{"method": "PATCH", "path": "/Users/bulkId:nobody", "data": patchBody(map[string]any{"op": "add", "path": "title", "value": "x"})},
		map[string]any{"method": "DELETE", "path": "/Users/" + str(g7["members"].([]any)[0].(map[string]any)["value"])},
	)
	res = bulkResults(t, e.must(e.do("POST", "/scim/v2/Bulk", bad), 200))
	want := []string{"409", "400", "400", "204"}
	for i, x := range res {
		if x["status"] != want[i] {
			t.Fatalf("op %d: %v (want %s)", i, x, want[i])
		}
	}
	if get(res[0], "response", "scimType") != "uniqueness" {
		t.Fatalf("error response %v", res[0]["response"])
	}
	bad["failOnErrors"] = 1
	res = bulkResults(t, e.must(e.do("POST", "/scim/v2/Bulk", bad), 200))
	if len(res) != 1 {
		t.Fatalf("failOnErrors=1 processed %d ops", len(res))
	}
	// If-Match through "version", and scopes per operation.
	uid := str(e.must(e.do("POST", "/scim/v2/Users", map[string]any{"userName": "versioned"}), 201).body["id"])
	res = bulkResults(t, e.must(e.do("POST", "/scim/v2/Bulk", bulkOps(map[string]any{"method": "PUT", "path": "/Users/" + uid, "version": `W/"9"`, "data": map[string]any{"userName": "versioned"}})), 200))
	if res[0]["status"] != "412" {
		t.Fatalf("stale version: %v", res[0])
	}
	e.token = auth.ScopeSCIMRead
	res = bulkResults(t, e.must(e.do("POST", "/scim/v2/Bulk", bulkOps(map[string]any{"method": "DELETE", "path": "/Users/" + uid})), 200))
	if res[0]["status"] != "403" {
		t.Fatalf("read-only bulk delete: %v", res[0])
	}
	e.token = auth.ScopeSCIM
	// Malformed requests and limits.
	wantError(t, e.do("POST", "/scim/v2/Bulk", bulkOps(map[string]any{"method": "GET", "path": "/Users"})), 400, "invalidSyntax")
	wantError(t, e.do("POST", "/scim/v2/Bulk", bulkOps(map[string]any{"method": "POST", "path": "/Users", "data": map[string]any{"userName": "nobulkid"}})), 400, "invalidSyntax")
	many := make([]map[string]any, 5001)
	for i := range many {
		many[i] = map[string]any{"method": "DELETE", "path": "/Users/x"}
	}
	wantError(t, e.do("POST", "/scim/v2/Bulk", bulkOps(many...)), 413, "")
}
