package filter

import (
	"math/rand/v2"
	"strings"
	"testing"

	fp "github.com/scim2/filter-parser/v2"
)

// TestSplitAttrPathMatchesTheParser: over generated paths (names, URN
// segments, dots, colons, '$', value filters, spaces, non-ASCII), the
// fast split (SplitAttrPath) takes a path exactly when the PATH grammar's
// parser (fp.ParsePath) reads it as a plain attribute path, and gives the
// same URN, attribute and sub-attribute (RFC 7644 §3.5.2: PATH = attrPath
// / valuePath [subAttr]).
func TestSplitAttrPathMatchesTheParser(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	parts := []string{"urn", "ietf", "params", "scim", "schemas", "extension", "enterprise", "2.0", "User", "core",
		"name", "familyName", "emails", "value", "manager", "$ref", "x", "a1", "b-c", "d_e", "9",
		":", ":", ".", ".", "$", "-", "_", "[", "]", " ", `"`, "é", "type eq \"work\"", "[type eq \"work\"]"}
	took := 0
	for range 50000 {
		var b strings.Builder
		for range 1 + rng.IntN(7) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		s := b.String()
		uri, name, sub, ok := SplitAttrPath(s)
		p, err := fp.ParsePath([]byte(s))
		parsedPlain := err == nil && p.ValueExpression == nil && p.SubAttribute == nil
		if ok != parsedPlain {
			t.Fatalf("%q: SplitAttrPath took it %v, the parser read a plain attribute path %v (%+v, %v)", s, ok, parsedPlain, p, err)
		}
		if !ok {
			continue
		}
		took++
		ap := p.AttributePath
		if ap.URI() != uri || ap.AttributeName != name || ap.SubAttributeName() != sub {
			t.Fatalf("%q: SplitAttrPath gave %q %q %q, the parser %q %q %q", s, uri, name, sub, ap.URI(), ap.AttributeName, ap.SubAttributeName())
		}
	}
	if took < 2000 {
		t.Fatalf("only %d of the generated paths were plain attribute paths", took)
	}
	t.Logf("%d plain attribute paths of 50000 generated", took)
}
