package patch

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

const storedUser = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
"id":"u1","userName":"bjensen","active":true,"name":{"givenName":"Barbara","familyName":"Jensen"},
"emails":[{"value":"b@work.example","type":"work","primary":true},{"value":"b@home.example","type":"home"}],
"groups":[{"value":"g1","display":"Admins"}],
"meta":{"resourceType":"User","created":"2026-01-01T00:00:00Z","lastModified":"2026-01-01T00:00:00Z","version":"W/\"1\""}}`

const storedGroup = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Admins",
"members":[{"value":"u1","display":"Babs"},{"value":"u2"},{"value":"u3"}],
"meta":{"resourceType":"Group","version":"W/\"1\""}}`

func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return m
}

func ops(t testing.TB, s string) []Operation {
	t.Helper()
	var o []Operation
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return o
}

// get reads a value by dotted path (extension URN segment allowed as key).
func get(doc map[string]any, keys ...string) any {
	var v any = doc
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func TestApply(t *testing.T) {
	reg := schema.NewRegistry()
	const ent = schema.EnterpriseUserURN
	tests := []struct {
		name    string
		group   bool
		strict  bool
		ops     string
		check   func(t *testing.T, d map[string]any)
		touched []string
		compat  []string
		errType string
		noop    bool
	}{
		// RFC 7644 §3.5.2.1 add.
		{name: "§3.5.2.1 add member", group: true,
			ops: `[{"op":"add","path":"members","value":[{"display":"Babs","$ref":"https://example.com/v2/Users/u4","value":"u4"}]}]`,
			check: func(t *testing.T, d map[string]any) {
				if n := len(d["members"].([]any)); n != 4 {
					t.Fatalf("members = %d", n)
				}
			}, touched: []string{"members"}},
		{name: "§3.5.2.1 add existing member is deduplicated", group: true,
			ops: `[{"op":"add","path":"members","value":[{"value":"u2"}]}]`, noop: true},
		{name: "§3.5.2.1 add without path",
			ops: `[{"op":"add","value":{"emails":[{"value":"babs@jensen.org","type":"home"}],"nickName":"Babs"}}]`,
			check: func(t *testing.T, d map[string]any) {
				if d["nickName"] != "Babs" || len(d["emails"].([]any)) != 3 {
					t.Fatalf("%v", d)
				}
			}, touched: []string{"nickName", "emails"}},
		{name: "add primary demotes the old primary",
			ops: `[{"op":"add","path":"emails","value":{"value":"new@x","primary":true}}]`,
			check: func(t *testing.T, d map[string]any) {
				e := d["emails"].([]any)
				if e[0].(map[string]any)["primary"] != false || e[2].(map[string]any)["primary"] != true {
					t.Fatalf("%v", e)
				}
			}},
		{name: "add to complex merges",
			ops: `[{"op":"add","path":"name","value":{"middleName":"J"}}]`,
			check: func(t *testing.T, d map[string]any) {
				if get(d, "name", "middleName") != "J" || get(d, "name", "givenName") != "Barbara" {
					t.Fatalf("%v", d["name"])
				}
			}},
		// RFC 7644 §3.5.2.2 remove.
		{name: "§3.5.2.2 remove single member", group: true,
			ops: `[{"op":"remove","path":"members[value eq \"u2\"]"}]`,
			check: func(t *testing.T, d map[string]any) {
				if n := len(d["members"].([]any)); n != 2 {
					t.Fatalf("members = %d", n)
				}
			}, touched: []string{"members"}},
		{name: "§3.5.2.2 remove all members", group: true, ops: `[{"op":"remove","path":"members"}]`,
			check: func(t *testing.T, d map[string]any) {
				if _, ok := d["members"]; ok {
					t.Fatal("members not removed")
				}
			}},
		{name: "§3.5.2.2 remove then add (replace members)", group: true,
			ops: `[{"op":"remove","path":"members"},{"op":"add","path":"members","value":[{"value":"u9"}]}]`,
			check: func(t *testing.T, d map[string]any) {
				if !reflect.DeepEqual(d["members"], []any{map[string]any{"value": "u9"}}) {
					t.Fatalf("%v", d["members"])
				}
			}},
		{name: "§3.5.2.2 remove sub-attribute through filter",
			ops: `[{"op":"remove","path":"emails[type eq \"work\"].value"}]`,
			check: func(t *testing.T, d map[string]any) {
				if _, ok := d["emails"].([]any)[0].(map[string]any)["value"]; ok {
					t.Fatal("value not removed")
				}
			}},
		{name: "remove without path is noTarget", ops: `[{"op":"remove"}]`, errType: scimerr.NoTarget},
		{name: "filtered remove matching nothing is noTarget", group: true,
			ops: `[{"op":"remove","path":"members[value eq \"nobody\"]"}]`, errType: scimerr.NoTarget},
		{name: "remove required userName", ops: `[{"op":"remove","path":"userName"}]`, errType: scimerr.InvalidValue},
		{name: "remove required group displayName", group: true, ops: `[{"op":"remove","path":"displayName"}]`, errType: scimerr.InvalidValue},
		{name: "remove absent attribute is a no-op", ops: `[{"op":"remove","path":"title"}]`, noop: true},
		{name: "remove name.givenName", ops: `[{"op":"remove","path":"name.givenName"}]`,
			check: func(t *testing.T, d map[string]any) {
				if get(d, "name", "givenName") != nil {
					t.Fatal("not removed")
				}
			}, touched: []string{"name"}},
		// RFC 7644 §3.5.2.3 replace.
		{name: "§3.5.2.3 replace members", group: true,
			ops: `[{"op":"replace","path":"members","value":[{"display":"Babs","value":"u7"},{"value":"u8"}]}]`,
			check: func(t *testing.T, d map[string]any) {
				if n := len(d["members"].([]any)); n != 2 {
					t.Fatalf("members = %d", n)
				}
			}},
		{name: "§3.5.2.3 replace work address sub-attribute via filter",
			ops: `[{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@work"}]`,
			check: func(t *testing.T, d map[string]any) {
				e := d["emails"].([]any)[0].(map[string]any)
				if e["value"] != "new@work" || e["type"] != "work" {
					t.Fatalf("%v", e)
				}
			}, touched: []string{"emails"}},
		{name: "§3.5.2.3 replace matching element wholly",
			ops: `[{"op":"replace","path":"emails[type eq \"home\"]","value":{"value":"h@x","type":"home"}}]`,
			check: func(t *testing.T, d map[string]any) {
				if !reflect.DeepEqual(d["emails"].([]any)[1], map[string]any{"value": "h@x", "type": "home"}) {
					t.Fatalf("%v", d["emails"])
				}
			}},
		{name: "§3.5.2.3 replace complex merges sub-attributes",
			ops: `[{"op":"replace","path":"name","value":{"familyName":"Smith"}}]`,
			check: func(t *testing.T, d map[string]any) {
				if get(d, "name", "familyName") != "Smith" || get(d, "name", "givenName") != "Barbara" {
					t.Fatalf("%v", d["name"])
				}
			}},
		{name: "strict replace with filter matching nothing is noTarget", strict: true,
			ops: `[{"op":"replace","path":"emails[type eq \"other\"].value","value":"x"}]`, errType: scimerr.NoTarget},
		{name: "replace same value is unchanged", ops: `[{"op":"replace","path":"userName","value":"bjensen"}]`, noop: true},
		// Entra.
		{name: "Entra Replace active \"False\"", ops: `[{"op":"Replace","path":"active","value":"False"}]`,
			check: func(t *testing.T, d map[string]any) {
				if d["active"] != false {
					t.Fatal(d["active"])
				}
			}, touched: []string{"active"}, compat: []string{CompatOpCase, CompatStringBoolean}},
		{name: "Entra string boolean strict", strict: true, ops: `[{"op":"replace","path":"active","value":"False"}]`, errType: scimerr.InvalidValue},
		{name: "Entra op case strict", strict: true, ops: `[{"op":"Replace","path":"active","value":false}]`, errType: scimerr.InvalidSyntax},
		{name: "Entra path-less dotted and URN keys",
			ops: `[{"op":"replace","value":{"name.givenName":"Jo","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"42"}}]`,
			check: func(t *testing.T, d map[string]any) {
				if get(d, "name", "givenName") != "Jo" || get(d, ent, "employeeNumber") != "42" {
					t.Fatalf("%v", d)
				}
				if !slices.Contains(d["schemas"].([]any), any(ent)) {
					t.Fatal("schemas not recomputed")
				}
			}, touched: []string{"name", ent + ":employeeNumber"}},
		{name: "Entra add through filter creates element",
			ops: `[{"op":"Add","path":"emails[type eq \"other\"].value","value":"x@y.z"}]`,
			check: func(t *testing.T, d map[string]any) {
				e := d["emails"].([]any)
				if !reflect.DeepEqual(e[2], map[string]any{"type": "other", "value": "x@y.z"}) {
					t.Fatalf("%v", e)
				}
			}, compat: []string{CompatOpCase, CompatFilterUpsert}},
		{name: "Entra Remove members by value", group: true,
			ops: `[{"op":"Remove","path":"members","value":[{"value":"u1"}]}]`,
			check: func(t *testing.T, d map[string]any) {
				m := d["members"].([]any)
				if len(m) != 2 || m[0].(map[string]any)["value"] != "u2" {
					t.Fatalf("%v", m)
				}
			}, compat: []string{CompatOpCase, CompatRemoveByValue}},
		{name: "Entra remove members by value strict removes all", group: true, strict: true,
			ops: `[{"op":"remove","path":"members","value":[{"value":"u1"}]}]`,
			check: func(t *testing.T, d map[string]any) {
				if _, ok := d["members"]; ok {
					t.Fatal("RFC semantics: all members removed")
				}
			}},
		{name: "Entra remove members filter", group: true, ops: `[{"op":"remove","path":"members[value eq \"u1\"]"}]`,
			check: func(t *testing.T, d map[string]any) {
				if len(d["members"].([]any)) != 2 {
					t.Fatal(d["members"])
				}
			}},
		{name: "URN-qualified paths",
			ops: `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"7"},
			{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName","value":"B"},
			{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m1","displayName":"ignored"}}]`,
			check: func(t *testing.T, d map[string]any) {
				if get(d, ent, "employeeNumber") != "7" || get(d, "name", "givenName") != "B" ||
					!reflect.DeepEqual(get(d, ent, "manager"), map[string]any{"value": "m1"}) {
					t.Fatalf("%v", d)
				}
			}},
		{name: "extension URN as path-less key",
			ops: `[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D"}}}]`,
			check: func(t *testing.T, d map[string]any) {
				if get(d, ent, "department") != "D" {
					t.Fatal(d)
				}
			}},
		{name: "case-insensitive names", ops: `[{"op":"replace","path":"NAME.GIVENNAME","value":"X"},{"op":"replace","path":"DisplayName","value":"D"}]`,
			check: func(t *testing.T, d map[string]any) {
				if get(d, "name", "givenName") != "X" || d["displayName"] != "D" {
					t.Fatal(d)
				}
			}},
		// Okta.
		{name: "Okta deactivate", ops: `[{"op":"replace","value":{"active":false}}]`,
			check: func(t *testing.T, d map[string]any) {
				if d["active"] != false {
					t.Fatal(d)
				}
			}, touched: []string{"active"}},
		{name: "Okta empty members", group: true, ops: `[{"op":"replace","path":"members","value":[]}]`,
			check: func(t *testing.T, d map[string]any) {
				if _, ok := d["members"]; ok {
					t.Fatal(d)
				}
			}, touched: []string{"members"}},
		{name: "Okta group push with id", group: true, ops: `[{"op":"replace","value":{"id":"g1","displayName":"New"}}]`,
			check: func(t *testing.T, d map[string]any) {
				if d["displayName"] != "New" || d["id"] != "g1" {
					t.Fatal(d)
				}
			}, touched: []string{"displayName"}},
		// Errors.
		{name: "readOnly path", ops: `[{"op":"replace","path":"id","value":"x"}]`, errType: scimerr.Mutability},
		{name: "readOnly groups path", ops: `[{"op":"add","path":"groups","value":[{"value":"g2"}]}]`, errType: scimerr.Mutability},
		{name: "readOnly meta path-less ignored", ops: `[{"op":"replace","value":{"meta":{"version":"x"},"groups":[]}}]`, noop: true},
		{name: "immutable members.value", group: true,
			ops: `[{"op":"replace","path":"members[value eq \"u1\"].value","value":"u5"}]`, errType: scimerr.Mutability},
		{name: "unknown op", ops: `[{"op":"move","path":"title"}]`, errType: scimerr.InvalidSyntax},
		{name: "unknown attribute", ops: `[{"op":"add","path":"nope","value":"x"}]`, errType: scimerr.InvalidPath},
		{name: "bad path syntax", ops: `[{"op":"add","path":"emails[type eq","value":"x"}]`, errType: scimerr.InvalidPath},
		{name: "filter on single-valued", ops: `[{"op":"add","path":"name[givenName eq \"x\"]","value":"x"}]`, errType: scimerr.InvalidPath},
		{name: "wrong type", ops: `[{"op":"replace","path":"userName","value":5}]`, errType: scimerr.InvalidValue},
		{name: "two primaries", ops: `[{"op":"replace","path":"emails","value":[{"value":"a","primary":true},{"value":"b","primary":true}]}]`, errType: scimerr.InvalidValue},
		{name: "path-less non-object", ops: `[{"op":"add","value":"x"}]`, errType: scimerr.InvalidSyntax},
		{name: "atomic: second op fails", ops: `[{"op":"replace","path":"title","value":"T"},{"op":"add","path":"nope","value":1}]`, errType: scimerr.InvalidPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, src := reg.Users(), storedUser
			if tt.group {
				rt, src = reg.Groups(), storedGroup
			}
			doc := decode(t, src)
			var compat []string
			res, err := Apply(rt, doc, ops(t, tt.ops), Options{Strict: tt.strict, OnCompat: func(r string) { compat = append(compat, r) }})
			if !reflect.DeepEqual(doc, decode(t, src)) {
				t.Fatal("input document mutated")
			}
			if tt.errType != "" {
				e, ok := scimerr.As(err)
				if !ok || e.Status != 400 || e.ScimType != tt.errType {
					t.Fatalf("want 400 %s, got %v", tt.errType, err)
				}
				if res.Doc != nil {
					t.Fatal("result returned with error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Changed == tt.noop {
				t.Fatalf("Changed = %v, touched %v", res.Changed, res.Touched)
			}
			if tt.check != nil {
				tt.check(t, res.Doc)
			}
			if tt.touched != nil && !slices.Equal(res.Touched, tt.touched) {
				t.Fatalf("touched = %v, want %v", res.Touched, tt.touched)
			}
			if tt.compat != nil && !slices.Equal(compat, tt.compat) {
				t.Fatalf("compat = %v, want %v", compat, tt.compat)
			}
			if res.Doc["id"] != doc["id"] || !reflect.DeepEqual(res.Doc["meta"], doc["meta"]) {
				t.Fatal("readOnly attributes not preserved")
			}
		})
	}
}
