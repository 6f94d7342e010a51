package patch

import (
	"encoding/json"
	"testing"

	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		`userName`, `name.givenName`, `emails[type eq "work"]`, `emails[type eq "work"].value`,
		`members[value eq "2819c223"]`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`,
		`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`,
		`emails[type eq "work" and value co "@x"].display`, `emails[not (primary eq true)]`, `x[`,
	} {
		f.Add(s)
	}
	reg := schema.NewRegistry()
	f.Fuzz(func(t *testing.T, s string) {
		for _, rt := range reg.ResourceTypes() {
			if _, err := ParsePath(rt, s, Limits{}); err != nil {
				if _, ok := scimerr.As(err); !ok {
					t.Fatalf("non-SCIM error %v", err)
				}
			}
		}
	})
}

func FuzzApply(f *testing.F) {
	for _, s := range []string{
		`[{"op":"Replace","path":"active","value":"False"}]`,
		`[{"op":"replace","value":{"name.givenName":"Jo","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"42"}}]`,
		`[{"op":"Add","path":"emails[type eq \"work\"].value","value":"x@y.z"}]`,
		`[{"op":"Remove","path":"members","value":[{"value":"u1"}]}]`,
		`[{"op":"remove","path":"members[value eq \"u1\"]"}]`,
		`[{"op":"replace","value":{"active":false}}]`,
		`[{"op":"replace","path":"members","value":[]}]`,
		`[{"op":"replace","value":{"id":"g1","displayName":"New"}}]`,
		`[{"op":"add","path":"emails","value":{"value":"a","primary":true}},{"op":"remove","path":"emails[value eq \"a\"].primary"}]`,
		`[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"manager":{"value":"m"}}}]`,
	} {
		f.Add([]byte(s), false)
	}
	reg := schema.NewRegistry()
	user, group := decode(f, storedUser), decode(f, storedGroup)
	f.Fuzz(func(t *testing.T, data []byte, strict bool) {
		var o []Operation
		if json.Unmarshal(data, &o) != nil {
			return
		}
		for _, c := range []struct {
			rt  *schema.ResourceType
			doc map[string]any
		}{{reg.Users(), user}, {reg.Groups(), group}} {
			res, err := Apply(c.rt, c.doc, o, Options{Strict: strict})
			if err != nil {
				if _, ok := scimerr.As(err); !ok {
					t.Fatalf("non-SCIM error %v", err)
				}
				continue
			}
			if res.Doc == nil {
				t.Fatal("nil doc")
			}
		}
	})
}
