package filter

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

const bjensen = `{
 "schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
 "id":"2819c223-7f76-453a-919d-413861904646","externalId":"bjensen","userName":"bjensen@example.com",
 "name":{"formatted":"Ms. Barbara J Jensen III","familyName":"O'Malley","givenName":"Barbara"},
 "title":"Tour Guide","userType":"Employee","active":true,
 "emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],
 "ims":[{"value":"someaimhandle","type":"aim"}],
 "groups":[{"value":"e9e30dba","display":"Tour Guides"}],
 "meta":{"resourceType":"User","created":"2010-01-23T04:56:22Z","lastModified":"2026-05-13T04:42:34Z","version":"W/\"a330bc54f0671c9\""},
 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"26118915"}}
}`

// intern differs from bjensen in ways the filters below distinguish.
const intern = `{
 "schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
 "id":"i1","userName":"jsmith","userType":"Intern","active":false,
 "emails":[{"value":"j@foo.com","type":"other"}],
 "ims":[{"value":"j@foo.com","type":"xmpp"}],
 "meta":{"resourceType":"User","lastModified":"2011-05-13T04:42:34Z"}
}`

func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMatch(t *testing.T) {
	rt := schema.NewRegistry().Users()
	b, i := decode(t, bjensen), decode(t, intern)
	tests := []struct {
		filter       string
		bjen, intern bool
	}{
		// RFC 7644 §3.4.2.2 examples.
		{`userName eq "bjensen@example.com"`, true, false},
		{`userName Eq "BJENSEN@example.com"`, true, false}, // caseExact=false
		{`name.familyName co "O'Malley"`, true, false},
		{`name.familyName co "o'malley"`, true, false},
		{`userName sw "J"`, false, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, false, true},
		{`title pr`, true, false},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, true, false},
		{`meta.lastModified ge "2011-05-13T04:42:34Z"`, true, true},
		{`meta.lastModified lt "2011-05-13T04:42:34Z"`, false, false},
		{`meta.lastModified le "2011-05-13T04:42:34Z"`, false, true},
		{`meta.lastModified eq "2011-05-13T06:42:34+02:00"`, false, true},
		{`title pr and userType eq "Employee"`, true, false},
		{`title pr or userType eq "Intern"`, true, true},
		{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, true, false},
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, true, false},
		{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, false, true},
		{`userType eq "Employee" and (emails.type eq "work")`, true, false},
		{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`, true, false},
		{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`, true, true},
		// Precedence: and binds tighter than or.
		{`userType eq "Intern" or userType eq "Employee" and active eq false`, false, true},
		{`(userType eq "Intern" or userType eq "Employee") and active eq false`, false, true},
		{`(userType eq "Intern" or userType eq "Employee") and active eq true`, true, false},
		{`not (active eq true)`, false, true},
		// Entra shapes.
		{`emails[type eq "work"].value eq "bjensen@example.com"`, true, false},
		{`emails[type eq "home"].value eq "bjensen@example.com"`, false, false},
		{`emails[type eq "other"].value ew "FOO.COM" or userName eq "nobody"`, false, true},
		{`active eq true and (meta.lastModified ge "2026-01-01T00:00:00Z" and meta.lastModified le "2027-01-01T00:00:00Z")`, true, false},
		{`externalId eq "bjensen"`, true, false},
		{`externalId eq "BJENSEN"`, false, false}, // externalId is caseExact
		{`id eq "2819c223-7f76-453a-919d-413861904646"`, true, false},
		// Extensions, groups, multi-valued.
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations"`, true, false},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"`, true, false},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr`, true, false},
		{`groups.value eq "e9e30dba"`, true, false},
		{`groups pr`, true, false},
		{`emails eq "babs@jensen.org"`, true, false},
		{`emails.value ne "babs@jensen.org"`, false, true},
		{`emails[primary eq true]`, true, false},
		{`emails[not (type eq "work")]`, true, true},
		{`title eq null`, false, true},
		{`title ne null`, true, false},
		{`title ne "Tour Guide"`, false, true},
		{`nickName pr`, false, false},
		{`name.givenName gt "A"`, true, false},
		{`name.givenName lt "a"`, false, false},
		{`userName ew ".COM"`, true, false},
		{`displayName co "x"`, false, false},
		{`userName eq "a\"b"`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := Compile(rt, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Match(b); got != tt.bjen {
				t.Errorf("bjensen: got %v want %v", got, tt.bjen)
			}
			if got := f.Match(i); got != tt.intern {
				t.Errorf("intern: got %v want %v", got, tt.intern)
			}
		})
	}
}

func TestMatchEmptyValues(t *testing.T) {
	rt := schema.NewRegistry().Users()
	f, err := Compile(rt, `title pr or emails pr or name pr`)
	if err != nil {
		t.Fatal(err)
	}
	if f.Match(map[string]any{"title": "", "emails": []any{}, "name": map[string]any{}}) {
		t.Fatal("pr must be false for empty string, array and object")
	}
	f2, _ := Compile(rt, `userName eq "a\"b\\c"`)
	if !f2.Match(map[string]any{"userName": `A"B\c`}) {
		t.Fatal("escaped literal")
	}
}

func TestCompileErrors(t *testing.T) {
	users := schema.NewRegistry().Users()
	for _, s := range []string{
		``, `userName`, `userName eq`, `userName eq "x" and`, `(userName eq "x"`, `userName xx "a"`,
		`nope eq "x"`, `name.nope eq "x"`, `urn:foo:bar:userName eq "x"`,
		`active gt true`, `active co "t"`, `active eq "true"`, `active eq 1`,
		`userName eq 5`, `userName eq true`, `meta.lastModified gt "yesterday"`,
		`x509Certificates.value gt "a"`, `name eq "x"`, `emails[nope eq "x"]`,
		`emails[type eq "work"].nope eq "x"`, `emails[type eq "work"].value`, `emails[type eq "work"].value zz`,
		`userName[value eq "x"]`, `emails pr and`, `userName eq "unterminated`,
	} {
		_, err := Compile(users, s)
		e, ok := scimerr.As(err)
		if !ok || e.Status != 400 || e.ScimType != scimerr.InvalidFilter {
			t.Errorf("Compile(%q) = %v, want 400 invalidFilter", s, err)
		}
	}
}

func TestIndexCandidates(t *testing.T) {
	reg := schema.NewRegistry()
	tests := []struct {
		rt          *schema.ResourceType
		filter      string
		attr, value string
		ok          bool
	}{
		{reg.Users(), `USERNAME eq "Bjensen"`, "userName", "Bjensen", true},
		{reg.Users(), `active eq true and externalId eq "x1"`, "externalId", "x1", true},
		{reg.Users(), `title pr and (active eq true and id eq "i")`, "id", "i", true},
		{reg.Users(), `userName eq "a" or title pr`, "", "", false},
		{reg.Users(), `not (userName eq "a")`, "", "", false},
		{reg.Users(), `userName ne "a"`, "", "", false},
		{reg.Users(), `userName sw "a"`, "", "", false},
		{reg.Users(), `title eq "a"`, "", "", false},
		{reg.Groups(), `displayName eq "Admins"`, "displayName", "Admins", true},
		{reg.Groups(), `members[value eq "u1"]`, "", "", false},
	}
	for _, tt := range tests {
		f, err := Compile(tt.rt, tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		a, v, ok := f.IndexCandidates("userName", "externalId", "id", "displayName")
		if a != tt.attr || v != tt.value || ok != tt.ok {
			t.Errorf("%s: got %q %q %v", tt.filter, a, v, ok)
		}
	}
	f, _ := Compile(reg.Users(), `id eq "a" or id eq "b" or id eq "c"`)
	a, vs, ok := f.IndexCandidateSet("id")
	if !ok || a != "id" || len(vs) != 3 || vs[2] != "c" {
		t.Fatalf("or set: %v %v %v", a, vs, ok)
	}
	f, _ = Compile(reg.Users(), `id eq "a" or userName eq "b"`)
	if _, _, ok := f.IndexCandidateSet("id", "userName"); ok {
		t.Fatal("mixed attributes must not plan an index lookup")
	}
}

// TestTextMatches: each co, sw or ew of a printable ASCII literal on an
// indexed attribute, at the top level or in a top-level AND chain, is a
// TextMatch, in the filter's order, its literal lower-cased whatever the
// attribute's caseExact.
func TestTextMatches(t *testing.T) {
	reg := schema.NewRegistry()
	indexed := []string{"userName", "emails.value", "displayName", "name.familyName", "externalId", "department"}
	tests := []struct {
		rt     *schema.ResourceType
		filter string
		want   []TextMatch
	}{
		{reg.Users(), `USERNAME co "Jen"`, []TextMatch{{"userName", fp.CO, "jen"}}},
		{reg.Users(), `emails.value sw "J.S@"`, []TextMatch{{"emails.value", fp.SW, "j.s@"}}},
		{reg.Users(), `emails[type eq "work"].value ew "@Example.COM"`, nil},
		{reg.Users(), `emails[value co "x"]`, nil},
		{reg.Users(), `active eq true and name.familyName ew "Son"`, []TextMatch{{"name.familyName", fp.EW, "son"}}},
		{reg.Users(), `title pr and (active eq true and displayName co "a b")`, []TextMatch{{"displayName", fp.CO, "a b"}}},
		{reg.Users(), `externalId co "AbC" and userName sw "x"`, []TextMatch{{"externalId", fp.CO, "abc"}, {"userName", fp.SW, "x"}}}, // externalId is caseExact
		{reg.Users(), `userName co "a" or title pr`, nil},
		{reg.Users(), `not (userName co "a")`, nil},
		{reg.Users(), `userName eq "a"`, nil},
		{reg.Users(), `userName gt "a"`, nil},
		{reg.Users(), `userName co ""`, nil},
		{reg.Users(), `userName co "jé"`, nil},
		{reg.Users(), "userName co \"\u212a\"", []TextMatch{{"userName", fp.CO, "k"}}}, // the Kelvin sign: Match compares it lower-cased, k
		{reg.Users(), "userName co \"a\u007f\"", nil},
		{reg.Users(), `emails co "x"`, []TextMatch{{"emails.value", fp.CO, "x"}}}, // emails.value, as Match reads it
		{reg.Users(), `title co "x"`, nil},
		// an extension attribute is not the core attribute of its name
		{reg.Users(), `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department co "x"`, nil},
		{reg.Groups(), `displayName sw "Adm"`, []TextMatch{{"displayName", fp.SW, "adm"}}},
	}
	for _, tt := range tests {
		f, err := Compile(tt.rt, tt.filter)
		if err != nil {
			t.Fatalf("%s: %v", tt.filter, err)
		}
		if got := f.TextMatches(indexed...); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %+v", tt.filter, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen"`, `name.familyName co "O'Malley"`, `userName sw "J"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `title pr`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified ge "2011-05-13T04:42:34Z"`,
		`meta.lastModified lt "2011-05-13T04:42:34Z"`, `meta.lastModified le "2011-05-13T04:42:34Z"`,
		`title pr and userType eq "Employee"`, `title pr or userType eq "Intern"`,
		`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
		`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		`userType eq "Employee" and (emails.type eq "work")`,
		`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		`emails[type eq "work"].value eq "x@y.z"`, `active eq true and age gt 1.5e3`, `a eq null`,
		`userName co "JENSEN" and emails.value ew "@EXAMPLE.com"`, `displayName sw "bab" and name.familyName co "ens"`,
	} {
		f.Add(s)
	}
	for _, s := range limitSeeds() {
		f.Add(s)
	}
	rt := schema.NewRegistry().Users()
	doc := decode(f, bjensen)
	f.Fuzz(func(t *testing.T, s string) {
		checkFuzzLimits(t, s)
		if _, err := Parse(s); err != nil {
			if _, ok := scimerr.As(err); !ok {
				t.Fatalf("non-SCIM error: %v", err)
			}
		}
		flt, err := Compile(rt, s)
		if err != nil {
			if _, ok := scimerr.As(err); !ok {
				t.Fatalf("non-SCIM error: %v", err)
			}
			return
		}
		matched := flt.Match(doc)
		_ = flt.Match(map[string]any{})
		flt.IndexCandidates("userName", "id")
		// TextMatches' promise, on a document of ASCII values: a filter
		// that matches it holds each comparison on some value
		for _, m := range flt.TextMatches("userName", "emails.value", "displayName", "name.familyName", "title") {
			if m.Text == "" || m.Text != strings.ToLower(m.Text) || !plainText(m.Text) {
				t.Fatalf("%q: TextMatch %+v", s, m)
			}
			if matched && !slices.ContainsFunc(valuesOf(doc, m.Attr), func(v string) bool {
				v = strings.ToLower(v)
				switch m.Op {
				case fp.SW:
					return strings.HasPrefix(v, m.Text)
				case fp.EW:
					return strings.HasSuffix(v, m.Text)
				}
				return strings.Contains(v, m.Text)
			}) {
				t.Fatalf("%q matches, but no value of %s %s %q", s, m.Attr, m.Op, m.Text)
			}
		}
	})
}

// plainText reports whether s is printable ASCII.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// valuesOf returns the string values of attr ("attr" or "attr.sub", also
// of a multi-valued attribute) in doc.
func valuesOf(doc map[string]any, attr string) []string {
	top, sub, _ := strings.Cut(attr, ".")
	var raw []any
	switch v := doc[top].(type) {
	case string:
		raw = []any{v}
	case map[string]any:
		raw = []any{v[sub]}
	case []any:
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				raw = append(raw, m[sub])
			}
		}
	}
	var out []string
	for _, r := range raw {
		if s, ok := r.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func TestCompileLenient(t *testing.T) {
	reg := schema.NewRegistry()
	doc := map[string]any{"displayName": "Eng"}
	f, err := CompileLenient(reg.Groups(), `userName eq "x" or displayName eq "eng"`)
	if err != nil || !f.Match(doc) {
		t.Fatalf("lenient or: %v", err)
	}
	f, err = CompileLenient(reg.Groups(), `userName eq "x" and displayName eq "eng"`)
	if err != nil || f.Match(doc) {
		t.Fatalf("lenient and: %v", err)
	}
	if _, err := Compile(reg.Groups(), `userName eq "x"`); err == nil {
		t.Fatal("strict compile accepted an unknown attribute")
	}
	if _, err := CompileLenient(reg.Groups(), `displayName gt true`); err == nil {
		t.Fatal("lenient compile accepted an impossible comparison")
	}
}

func TestReferences(t *testing.T) {
	reg := schema.NewRegistry()
	cases := []struct {
		rt     *schema.ResourceType
		filter string
		name   string
		want   bool
	}{
		{reg.Users(), `groups.value eq "g1"`, "groups", true},
		{reg.Users(), `userName eq "members"`, "members", false},
		{reg.Users(), `userName eq "groups"`, "groups", false},
		{reg.Groups(), `members[value eq "u1"]`, "members", true},
		{reg.Groups(), `displayName eq "x" or members.value eq "u1"`, "members", true},
		{reg.Groups(), `displayName eq "x"`, "members", false},
		{reg.Users(), `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"`,
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", true},
	}
	for _, tc := range cases {
		f, err := Compile(tc.rt, tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		if got := f.References(tc.name); got != tc.want {
			t.Errorf("%s: References(%q) = %v", tc.filter, tc.name, got)
		}
	}
}
