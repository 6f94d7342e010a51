package patch

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		`userName`, `name.givenName`, `emails[type eq "work"]`, `emails[type eq "work"].value`,
		`members[value eq "2819c223"]`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`,
		`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`,
		`emails[type eq "work" and value co "@x"].display`, `emails[not (primary eq true)]`, `x[`,
		// Inputs that overflowed the parser's stack or took seconds
		// before the limits were checked first.
		"emails" + strings.Repeat("[", 100_000), "emails[" + strings.Repeat("(", 100_000),
		"emails[" + strings.Repeat("(", 5000) + `type eq "work"` + strings.Repeat(")", 5000) + "]",
		"emails[" + strings.Repeat(`type eq "w" or `, 5000) + `type eq "w"]`,
		`emails[value eq "` + strings.Repeat("a", 100_000) + `"]`, strings.Repeat("a", 100_000),
	} {
		f.Add(s)
	}
	reg := schema.NewRegistry()
	lim := Limits{MaxPathLength: 512, Filter: filter.Limits{MaxDepth: 4, MaxTerms: 8}}
	f.Fuzz(func(t *testing.T, s string) {
		for _, rt := range reg.ResourceTypes() {
			if _, err := ParsePath(rt, s, lim); err != nil {
				if _, ok := scimerr.As(err); !ok {
					t.Fatalf("non-SCIM error %v", err)
				}
			} else if len(s) > lim.MaxPathLength {
				t.Fatalf("%d-byte path accepted", len(s))
			}
			// Whatever follows, too deep a value filter is refused
			// before parsing: invalidFilter, or invalidPath if too long.
			deep := "emails[" + strings.Repeat("(", lim.Filter.MaxDepth) + s
			_, err := ParsePath(rt, deep, lim)
			want := scimerr.InvalidFilter
			if len(deep) > lim.MaxPathLength {
				want = scimerr.InvalidPath
			}
			if se, ok := scimerr.As(err); !ok || se.ScimType != want || !strings.Contains(se.Detail, "exceeds") {
				t.Fatalf("deep path %q: want %s naming the limit, got %v", deep, want, err)
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
		// More operations than allowed: refused before any is applied.
		if _, err := Apply(reg.Users(), user, o, Options{Limits: Limits{MaxOperations: len(o) - 1}}); len(o) > 1 {
			if se, ok := scimerr.As(err); !ok || se.ScimType != scimerr.InvalidValue || !strings.Contains(se.Detail, "operations") {
				t.Fatalf("%d operations, limit %d: %v", len(o), len(o)-1, err)
			}
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
