package schema

import (
	"reflect"
	"testing"
)

const fullUser = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
"id":"1","externalId":"e","userName":"bjensen","password":"secret","displayName":"Babs",
"name":{"givenName":"Barbara","familyName":"Jensen"},
"emails":[{"value":"b@x","type":"work","primary":true},{"value":"b@h","type":"home"}],
"meta":{"resourceType":"User","lastModified":"2026-01-01T00:00:00Z","version":"W/\"1\""},
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","employeeNumber":"7"}}`

func TestProject(t *testing.T) {
	rt := NewRegistry().Users()
	tests := []struct {
		name  string
		attrs []string
		excl  []string
		want  string
	}{
		{name: "default drops password only", want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
"id":"1","externalId":"e","userName":"bjensen","displayName":"Babs","name":{"givenName":"Barbara","familyName":"Jensen"},
"emails":[{"value":"b@x","type":"work","primary":true},{"value":"b@h","type":"home"}],
"meta":{"resourceType":"User","lastModified":"2026-01-01T00:00:00Z","version":"W/\"1\""},
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","employeeNumber":"7"}}`},
		{name: "RFC7644 §3.9 attributes=userName keeps id and schemas", attrs: []string{"USERNAME"},
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"id":"1","userName":"bjensen"}`},
		{name: "sub-attributes", attrs: []string{"name.givenName", "emails.value", "meta.lastModified"},
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"id":"1",
"name":{"givenName":"Barbara"},"emails":[{"value":"b@x"},{"value":"b@h"}],"meta":{"lastModified":"2026-01-01T00:00:00Z"}}`},
		{name: "URN-qualified extension attribute", attrs: []string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "password"},
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"id":"1",
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D"}}`},
		{name: "excluded", excl: []string{"emails", "name.familyName", "id", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "meta"},
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
"id":"1","externalId":"e","userName":"bjensen","displayName":"Babs","name":{"givenName":"Barbara"}}`},
		{name: "excluded sub-attribute of multi-valued", excl: []string{"emails.type", "emails.primary", "name", "meta", "externalId", "displayName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
"id":"1","userName":"bjensen","emails":[{"value":"b@x"},{"value":"b@h"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustJSON(t, fullUser)
			got := Project(rt, doc, tt.attrs, tt.excl)
			if !reflect.DeepEqual(mustJSON(t, toJSON(got)), mustJSON(t, tt.want)) {
				t.Fatalf("got  %s\nwant %s", toJSON(got), tt.want)
			}
			if !reflect.DeepEqual(doc, mustJSON(t, fullUser)) {
				t.Fatal("doc mutated")
			}
		})
	}
}
