package schema

import (
	"errors"
	"testing"
)

func TestResolve(t *testing.T) {
	reg := NewRegistry()
	users, groups := reg.Users(), reg.Groups()
	tests := []struct {
		rt       *ResourceType
		path     string
		wantFull string
		wantURN  string
		ext      bool
	}{
		{users, "userName", "userName", UserSchemaURN, false},
		{users, "USERNAME", "userName", UserSchemaURN, false},
		{users, "name.givenName", "name.givenName", UserSchemaURN, false},
		{users, "Name.GIVENNAME", "name.givenName", UserSchemaURN, false},
		{users, "emails", "emails", UserSchemaURN, false},
		{users, "emails.value", "emails.value", UserSchemaURN, false},
		{users, "groups.$ref", "groups.$ref", UserSchemaURN, false},
		{users, "meta.lastModified", "meta.lastModified", UserSchemaURN, false},
		{users, "urn:ietf:params:scim:schemas:core:2.0:User:userName", "userName", UserSchemaURN, false},
		{users, "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:name.familyName", "name.familyName", UserSchemaURN, false},
		{users, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
			EnterpriseUserURN + ":manager.value", EnterpriseUserURN, true},
		{users, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:Department",
			EnterpriseUserURN + ":department", EnterpriseUserURN, true},
		{groups, "members.value", "members.value", GroupSchemaURN, false},
		{groups, "DisplayName", "displayName", GroupSchemaURN, false},
	}
	for _, tt := range tests {
		t.Run(tt.rt.Name+"/"+tt.path, func(t *testing.T) {
			ref, err := tt.rt.Resolve(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if ref.FullPath() != tt.wantFull || ref.Schema.ID != tt.wantURN || ref.Extension != tt.ext {
				t.Fatalf("got %s %s ext=%v", ref.FullPath(), ref.Schema.ID, ref.Extension)
			}
		})
	}
	for _, bad := range []string{"nope", "name.nope", "userName.x", "emails.value.x", "urn:x:y:userName",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName", "members"} {
		if _, err := users.Resolve(bad); !errors.Is(err, ErrUnknownAttribute) {
			t.Errorf("Resolve(%q) = %v, want ErrUnknownAttribute", bad, err)
		}
	}
}

func TestRegistry(t *testing.T) {
	reg := NewRegistry()
	if got := len(reg.Schemas()); got != 3 {
		t.Fatalf("schemas = %d, want 3", got)
	}
	if reg.Schema("URN:ietf:params:scim:schemas:core:2.0:group") == nil {
		t.Fatal("case-insensitive Schema lookup failed")
	}
	reg.AddUserExtension(RoleExtension(), false)
	if reg.Schema(RoleExtensionURN) == nil || len(reg.Users().Extensions) != 2 {
		t.Fatal("extension not added")
	}
	reg.AddUserExtension(RoleExtension(), false) // replace, not duplicate
	if len(reg.Users().Extensions) != 2 {
		t.Fatal("extension duplicated")
	}
	ref, err := reg.Users().Resolve(RoleExtensionURN + ":effectiveRole")
	if err != nil || ref.Attr.Mutability != ReadOnly {
		t.Fatalf("resolve role ext: %v", err)
	}
	// Registries share no state.
	if len(NewRegistry().Users().Extensions) != 1 {
		t.Fatal("registries share state")
	}
	id := reg.Users().Schema.Attribute("id")
	if id.Mutability != ReadOnly || id.Returned != ReturnedAlways || !id.CaseExact {
		t.Fatalf("id characteristics wrong: %+v", id)
	}
	un := reg.Users().Schema.Attribute("userName")
	if !un.Required || un.Uniqueness != UniqueServer || un.CaseExact {
		t.Fatalf("userName characteristics wrong: %+v", un)
	}
	pw := reg.Users().Schema.Attribute("password")
	if pw.Mutability != WriteOnly || pw.Returned != ReturnedNever {
		t.Fatalf("password characteristics wrong: %+v", pw)
	}
}

func TestRepresentation(t *testing.T) {
	reg := NewRegistry()
	rep := reg.Users().Representation("https://x/scim/v2/")
	if rep["endpoint"] != "/Users" || rep["schema"] != UserSchemaURN {
		t.Fatalf("bad rt rep %v", rep)
	}
	meta := rep["meta"].(map[string]any)
	if meta["location"] != "https://x/scim/v2/ResourceTypes/User" {
		t.Fatalf("location %v", meta["location"])
	}
	exts := rep["schemaExtensions"].([]any)
	if exts[0].(map[string]any)["schema"] != EnterpriseUserURN {
		t.Fatalf("exts %v", exts)
	}
	srep := reg.Schema(EnterpriseUserURN).Representation("https://x")
	if srep["id"] != EnterpriseUserURN || len(srep["attributes"].([]any)) != 6 {
		t.Fatalf("schema rep %v", toJSON(srep))
	}
	mgr := srep["attributes"].([]any)[5].(map[string]any)
	if mgr["name"] != "manager" || len(mgr["subAttributes"].([]any)) != 3 {
		t.Fatalf("manager rep %v", mgr)
	}
}

func TestCompareValues(t *testing.T) {
	ci := &Attribute{Type: TypeString}
	ce := &Attribute{Type: TypeString, CaseExact: true}
	dt := &Attribute{Type: TypeDateTime}
	tests := []struct {
		a    *Attribute
		x, y any
		want int
		ok   bool
	}{
		{ci, "abc", "ABC", 0, true},
		{ce, "abc", "ABC", 1, true},
		{ci, "a", "B", -1, true},
		{ce, "a", "B", 1, true},
		{dt, "2026-01-01T00:00:00Z", "2025-12-31T23:00:00-02:00", -1, true},
		{dt, "2026-01-01T00:00:00Z", "garbage", 0, false},
		{&Attribute{Type: TypeInteger}, 2.0, 10, -1, true},
		{&Attribute{Type: TypeBoolean}, false, true, -1, true},
		{ci, "a", 1.0, 0, false},
	}
	for i, tt := range tests {
		got, ok := CompareValues(tt.a, tt.x, tt.y)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%d: CompareValues(%v,%v) = %d,%v want %d,%v", i, tt.x, tt.y, got, ok, tt.want, tt.ok)
		}
	}
}
