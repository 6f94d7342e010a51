package scimapi_test

import (
	"slices"
	"testing"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestExternalIdNotUnique: externalId has uniqueness "none" (RFC 7643 §3.1)
// and Entra's default mapping (mailNickname -> externalId) repeats values,
// as Microsoft's SCIMReferenceCode test collection does: two users with the
// same externalId are both created, and `externalId eq` finds both.
func TestExternalIdNotUnique(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		e := newEnv(t, r, false)
		a := str(e.must(e.do("POST", "/scim/v2/Users", entraUser("ada@example.com", "nick")), 201).body["id"])
		b := str(e.must(e.do("POST", "/scim/v2/Users", entraUser("ada.l@example.com", "nick")), 201).body["id"])
		// A third one takes the value by PATCH, as Entra updates externalId.
		c := str(e.must(e.do("POST", "/scim/v2/Users", entraUser("grace@example.com", "other")), 201).body["id"])
		e.must(e.do("PATCH", "/scim/v2/Users/"+c, patchBody(map[string]any{"op": "replace", "path": "externalId", "value": "nick"})), 200)
		l := list(t, e, "filter="+urlq(`externalId eq "nick"`))
		var ids []string
		for _, x := range l.body["Resources"].([]any) {
			ids = append(ids, str(x.(map[string]any)["id"]))
		}
		slices.Sort(ids)
		want := []string{a, b, c}
		slices.Sort(want)
		if l.body["totalResults"] != float64(3) || !slices.Equal(ids, want) {
			t.Fatalf("externalId eq found %v, want %v: %s", ids, want, l.raw)
		}
		// caseExact: another case is another value.
		if l := list(t, e, "filter="+urlq(`externalId eq "NICK"`)); l.body["totalResults"] != float64(0) {
			t.Fatalf("externalId is caseExact: %s", l.raw)
		}
		// userName stays unique, case-insensitively (§4.1.1).
		wantError(t, e.do("POST", "/scim/v2/Users", entraUser("ADA@example.com", "x")), 409, "uniqueness")
		// Groups: the same, per resource type.
		for _, n := range []string{"Eng", "Ops"} {
			e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": n, "externalId": "nick"}), 201)
		}
		if g := e.must(e.do("GET", "/scim/v2/Groups?filter="+urlq(`externalId eq "nick"`), nil), 200); g.body["totalResults"] != float64(2) {
			t.Fatalf("group externalId eq: %s", g.raw)
		}
	})
}

// TestSchemasStateEnforcedUniqueness: /Schemas advertises uniqueness
// "server" exactly for the attributes the server keeps unique (id and what
// the store indexes uniquely) and "none" for every other attribute.
func TestSchemasStateEnforcedUniqueness(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		e := newEnv(t, r, false)
		for urn, typ := range map[string]string{schema.UserSchemaURN: store.TypeUser, schema.GroupSchemaURN: store.TypeGroup, schema.EnterpriseUserURN: ""} {
			unique := []string{}
			if typ != "" {
				unique = append([]string{"id"}, store.Unique(typ)...)
			}
			s := e.must(e.do("GET", "/scim/v2/Schemas/"+urn, nil), 200)
			var walk func(prefix string, attrs []any)
			walk = func(prefix string, attrs []any) {
				for _, x := range attrs {
					a := x.(map[string]any)
					name := prefix + str(a["name"])
					want := "none"
					if slices.Contains(unique, name) {
						want = "server"
					}
					if a["uniqueness"] != want {
						t.Errorf("%s %s: uniqueness %v, want %s", urn, name, a["uniqueness"], want)
					}
					if sub, ok := a["subAttributes"].([]any); ok {
						walk(name+".", sub)
					}
				}
			}
			walk("", s.body["attributes"].([]any))
		}
	})
}
