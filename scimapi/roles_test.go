package scimapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/roles"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

func roleOf(t *testing.T, e *env, uid string) string {
	t.Helper()
	u := e.must(e.do("GET", "/scim/v2/Users/"+uid, nil), 200)
	return str(get(u.body, schema.RoleExtensionURN, "effectiveRole"))
}

// testRoleMapping plays an Entra-like lifecycle against a group → role
// mapping and checks the effective role and the user.role_changed events.
func testRoleMapping(t *testing.T, r *redistest.Redis) {
	m, err := roles.New(roles.Config{Mapping: "Engineering-Admins=ADMIN,PMs=PROJECTADMIN,ext-ops=ADMIN", Precedence: "ADMIN,PROJECTADMIN,USER", Default: "USER"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, r, func(o *scimapi.Options) { o.Roles = m })
	uid := str(e.must(e.do("POST", "/scim/v2/Users", entraUser("role@example.com", "r-1")), 201).body["id"])
	if got := roleOf(t, e, uid); got != "USER" {
		t.Fatalf("initial role %q", got)
	}
	admins := str(e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "Engineering-Admins"}), 201).body["id"])
	pms := str(e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "PMs", "members": []any{map[string]any{"value": uid}}}), 201).body["id"])
	if got := roleOf(t, e, uid); got != "PROJECTADMIN" {
		t.Fatalf("after PMs %q", got)
	}
	e.must(e.do("PATCH", "/scim/v2/Groups/"+admins, patchBody(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uid}}})), 204)
	if got := roleOf(t, e, uid); got != "ADMIN" {
		t.Fatalf("highest of two groups: %q", got)
	}
	// Renaming the admin group out of the mapping demotes its members.
	e.must(e.do("PATCH", "/scim/v2/Groups/"+admins, patchBody(map[string]any{"op": "replace", "path": "displayName", "value": "Former-Admins"})), 204)
	if got := roleOf(t, e, uid); got != "PROJECTADMIN" {
		t.Fatalf("after rename %q", got)
	}
	// Mapping by externalId.
	e.must(e.do("PATCH", "/scim/v2/Groups/"+admins, patchBody(map[string]any{"op": "add", "path": "externalId", "value": "ext-ops"})), 204)
	if got := roleOf(t, e, uid); got != "ADMIN" {
		t.Fatalf("externalId mapping %q", got)
	}
	// Deleting a mapped group and emptying the other (Okta) leaves the default.
	e.must(e.do("DELETE", "/scim/v2/Groups/"+admins, nil), 204)
	e.must(e.do("PATCH", "/scim/v2/Groups/"+pms, patchBody(map[string]any{"op": "replace", "path": "members", "value": []any{}})), 204)
	if got := roleOf(t, e, uid); got != "USER" {
		t.Fatalf("after removal %q", got)
	}
	// The roles attribute counts when no group maps (groups win otherwise).
	e.must(e.do("PATCH", "/scim/v2/Users/"+uid, patchBody(map[string]any{"op": "add", "path": "roles", "value": []any{map[string]any{"value": "viewer"}, map[string]any{"value": "editor", "primary": true}}})), 200)
	if got := roleOf(t, e, uid); got != "editor" {
		t.Fatalf("roles attribute %q", got)
	}
	// The role is read-only and filterable.
	e.must(e.do("PATCH", "/scim/v2/Users/"+uid, patchBody(map[string]any{"op": "replace", "value": map[string]any{schema.RoleExtensionURN + ":effectiveRole": "ADMIN"}})), 200)
	if got := roleOf(t, e, uid); got != "editor" {
		t.Fatalf("client overwrote the role: %q", got)
	}
	l := e.must(e.do("GET", "/scim/v2/Users?filter="+urlq(schema.RoleExtensionURN+`:effectiveRole eq "editor"`), nil), 200)
	if l.body["totalResults"] != float64(1) {
		t.Fatalf("filter on role: %s", l.raw)
	}
	if sc := e.do("GET", "/scim/v2/Schemas/"+schema.RoleExtensionURN, nil); sc.code != 200 {
		t.Fatalf("role schema not advertised: %d", sc.code)
	}

	msgs, err := r.Client.XRange(context.Background(), store.EventsKey(r.Prefix), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, m := range msgs {
		if m.Values["type"] == "user.role_changed" {
			changes = append(changes, fmt.Sprint(m.Values["data"]))
			if m.Values["audit_id"] == "" {
				t.Errorf("role change without audit id: %v", m.Values)
			}
		}
	}
	want := []string{"USER", "PROJECTADMIN", "ADMIN", "PROJECTADMIN", "ADMIN", "PROJECTADMIN", "USER", "editor"}
	var got []string
	for _, c := range changes {
		var d struct{ Role string }
		_ = jsonUnmarshal(c, &d)
		got = append(got, d.Role)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("role_changed sequence\n got %v\nwant %v", got, want)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
