package scimapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/patch"
)

// wantLimitError asserts a 400 of scimType whose detail names the limit.
func wantLimitError(t *testing.T, r resp, scimType, detail string) {
	t.Helper()
	wantError(t, r, 400, scimType)
	if !strings.Contains(str(r.body["detail"]), detail) {
		t.Fatalf("detail %q does not contain %q", r.body["detail"], detail)
	}
}

func q(s string) string { return url.QueryEscape(s) }

// TestRequestLimits: every parameter the parsers see is bounded before
// they run, the refusal names the limit, a refused write changes nothing,
// and /ServiceProviderConfig advertises the limits in force.
func TestRequestLimits(t *testing.T) {
	e := newEnvWith(t, redistest.Mini(t), func(o *scimapi.Options) {
		o.Limits = scimapi.Limits{
			Filter:             filter.Limits{MaxLength: 4096, MaxDepth: 4, MaxTerms: 10},
			Patch:              patch.Limits{MaxOperations: 3, MaxPathLength: 100},
			MaxAttributes:      3,
			MaxAttributeLength: 64,
		}
	})
	id := str(e.must(e.do("POST", "/scim/v2/Users", entraUser("lim@example.com", "l-1")), 201).body["id"])
	deep := strings.Repeat("(", 5) + `userName eq "x"` + strings.Repeat(")", 5)
	many := strings.TrimSuffix(strings.Repeat(`userName eq "x" or `, 6), " or ") // 11 terms

	// Filters: query, .search on a type and at the root.
	wantLimitError(t, e.do("GET", "/scim/v2/Users?filter="+q(deep), nil), "invalidFilter", "filter nesting depth exceeds 4")
	wantLimitError(t, e.do("GET", "/scim/v2/Users?filter="+q(many), nil), "invalidFilter", "filter has more than 10 terms")
	wantLimitError(t, e.do("GET", "/scim/v2/Groups?filter="+q(`displayName eq "`+strings.Repeat("a", 4096)+`"`), nil), "invalidFilter", "filter length exceeds 4096 bytes")
	wantLimitError(t, e.do("POST", "/scim/v2/Users/.search", map[string]any{"schemas": []string{scimapi.SearchRequestURN}, "filter": deep}), "invalidFilter", "nesting depth exceeds 4")
	wantLimitError(t, e.do("POST", "/scim/v2/.search", map[string]any{"schemas": []string{scimapi.SearchRequestURN}, "filter": many}), "invalidFilter", "more than 10 terms")
	// Within the limits (parentheses inside strings do not nest).
	r := list(t, e, "filter="+q(strings.Repeat("(", 4)+`userName eq "lim@example.com" or title eq "((((((("`+strings.Repeat(")", 4)))
	if r.body["totalResults"] != float64(1) {
		t.Fatalf("filter within the limits: %s", r.raw)
	}

	// attributes, excludedAttributes, sortBy: query and search body.
	wantLimitError(t, e.do("GET", "/scim/v2/Users?attributes=a,b,c,d", nil), "invalidValue", "attributes has more than 3 entries")
	wantLimitError(t, e.do("GET", "/scim/v2/Users/"+id+"?excludedAttributes="+strings.Repeat("a,", 100_000), nil), "invalidValue", "excludedAttributes has more than 3 entries")
	wantLimitError(t, e.do("GET", "/scim/v2/Users/"+id+"?attributes="+strings.Repeat("a", 65), nil), "invalidValue", "an entry of attributes is longer than 64 bytes")
	wantLimitError(t, e.do("GET", "/scim/v2/Users?sortBy="+strings.Repeat("a", 65), nil), "invalidValue", "sortBy is longer than 64 bytes")
	wantLimitError(t, e.do("GET", "/scim/v2/Users?sortBy="+q(`userName eq "x"`), nil), "invalidValue", "sortBy is not an attribute path")
	wantLimitError(t, e.do("POST", "/scim/v2/.search", map[string]any{"attributes": []string{"a", "b", "c", "d"}}), "invalidValue", "attributes has more than 3 entries")
	wantLimitError(t, e.do("POST", "/scim/v2/Users/.search", map[string]any{"sortBy": strings.Repeat("a", 65)}), "invalidValue", "sortBy is longer than 64 bytes")
	r = e.must(e.do("GET", "/scim/v2/Users?sortBy=name.familyName&attributes="+q("userName, urn:ietf:params:scim:schemas:core:2.0:User:name.givenName"), nil), 200)
	if r.body["totalResults"] != float64(1) {
		t.Fatalf("parameters within the limits: %s", r.raw)
	}
	// A write with a bad parameter is refused before it writes.
	wantLimitError(t, e.do("POST", "/scim/v2/Users?attributes=a,b,c,d", entraUser("lim2@example.com", "l-2")), "invalidValue", "more than 3 entries")

	// PATCH: operations and paths.
	title := map[string]any{"op": "replace", "path": "title", "value": "T"}
	wantLimitError(t, e.do("PATCH", "/scim/v2/Users/"+id, patchBody(title, title, title, title)), "invalidValue", "the request has 4 operations; at most 3")
	wantLimitError(t, e.do("PATCH", "/scim/v2/Users/"+id, patchBody(title, map[string]any{"op": "replace", "path": strings.Repeat("a", 101), "value": "T"})), "invalidPath", "operation 1: path length exceeds 100 bytes")
	wantLimitError(t, e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "remove", "path": "emails" + strings.Repeat("[", 90)})), "invalidFilter", "path nesting depth exceeds 4")
	// Group member paths are limited too, though they take a faster route.
	gid := str(e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "lim"}), 201).body["id"])
	wantLimitError(t, e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "remove", "path": `members[value eq "` + strings.Repeat("x", 100) + `"]`})), "invalidPath", "path length exceeds 100 bytes")
	if r := list(t, e, ""); r.body["totalResults"] != float64(1) || e.must(e.do("GET", "/scim/v2/Users/"+id, nil), 200).body["title"] != nil {
		t.Fatalf("a refused request changed state: %s", r.raw)
	}
	e.must(e.do("PATCH", "/scim/v2/Users/"+id, patchBody(title, title, title)), 200)

	sp := e.must(e.do("GET", "/scim/v2/ServiceProviderConfig", nil), 200)
	ext, _ := sp.body[scimapi.LimitsURN].(map[string]any)
	want := map[string]float64{"filterMaxLength": 4096, "filterMaxDepth": 4, "filterMaxTerms": 10, "patchMaxOperations": 3,
		"patchMaxPathLength": 100, "attributesMaxCount": 3, "attributeMaxLength": 64}
	for k, v := range want {
		if ext[k] != v {
			t.Errorf("%s: %v, want %v (%s)", k, ext[k], v, sp.raw)
		}
	}
	if schemas, _ := sp.body["schemas"].([]any); len(schemas) != 2 || schemas[1] != scimapi.LimitsURN {
		t.Errorf("schemas %v", sp.body["schemas"])
	}
}
