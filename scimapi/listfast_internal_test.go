package scimapi

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestLookupMatchDocMatchesLikeTheWholeDocument: for generated Users and
// Groups (extensions, groups, members, roles, repeated and escaped keys)
// and many generated filters over core, sub-, extension and derived
// attributes, a filter matches the partial document of lookupMatchDoc
// exactly when it matches the whole rendered document.
func TestLookupMatchDocMatchesLikeTheWholeDocument(t *testing.T) {
	reg := schema.NewRegistry()
	reg.AddUserExtension(testExtension(), false)
	reg.AddUserExtension(schema.RoleExtension(), false)
	rng := rand.New(rand.NewPCG(3, 4))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	userPaths := []string{"userName", "displayName", "active", "externalId", "name.givenName", "name.familyName",
		"emails.value", "emails.type", "emails.primary", "roles.value", "addresses.country", "nickName", "schemas",
		"id", "meta.created", "meta.version", "groups.value", "groups.display", "title",
		schema.EnterpriseUserURN + ":employeeNumber", schema.EnterpriseUserURN + ":costCenter",
		schema.EnterpriseUserURN + ":manager.value", "urn:example:ext:1.0:User:shown", "urn:example:ext:1.0:User:tags.value"}
	groupPaths := []string{"displayName", "externalId", "members.value", "members.display", "members.type", "id", "schemas"}
	ops := []string{"eq", "ne", "co", "sw", "ew", "gt", "le"}
	matched, compiled := 0, 0
	for i := range 1500 {
		rt, paths := reg.Users(), userPaths
		r := &store.Resource{ID: fmt.Sprintf("0190-%d", i), Version: int64(1 + rng.IntN(50)), Created: now, Modified: now}
		var attrs map[string]any
		if i%4 == 3 {
			rt, paths, r.Type, attrs = reg.Groups(), groupPaths, store.TypeGroup, genGroupAttrs(rng)
			for j := range rng.IntN(4) {
				r.Members = append(r.Members, store.Member{Value: fmt.Sprintf("m%d", j), Type: "User", Display: genText(rng)})
			}
		} else {
			r.Type, attrs = store.TypeUser, genUserAttrs(rng)
			for j := range rng.IntN(3) {
				r.Groups = append(r.Groups, store.Member{Value: fmt.Sprintf("g%d", j), Type: store.TypeGroup, Display: genText(rng)})
			}
		}
		doc, err := json.Marshal(attrs)
		if err != nil {
			t.Fatal(err)
		}
		r.Doc = string(doc)
		switch rng.IntN(8) {
		case 0: // a repeated key: the last one counts
			r.Doc = `{"displayName":"first","userName":"dup@example.com",` + r.Doc[1:]
		case 1: // an escaped key: decoded whole
			r.Doc = `{"x\u0041":1,` + r.Doc[1:]
		case 2:
			r.Doc = " " + strings.ReplaceAll(r.Doc, ",", " ,\n ") + "\n"
		}
		whole := *r
		if err := whole.DecodeAttrs(); err != nil {
			t.Fatal(err)
		}
		full := render(rt, &whole, "")
		literals := literalsOf(full)
		for range 40 {
			text := genFilter(rng, paths, ops, literals, 2)
			f, err := filter.Compile(rt, text)
			if err != nil {
				continue
			}
			compiled++
			raw := *r
			part, err := lookupMatchDoc(rt, &raw, f)
			if err != nil {
				t.Fatal(err)
			}
			want := f.Match(full)
			if got := f.Match(part); got != want {
				t.Fatalf("%s on %s: partial %v, whole %v", text, r.Doc, got, want)
			}
			if want {
				matched++
			}
		}
	}
	if compiled < 20000 || matched < 2000 {
		t.Fatalf("only %d filters compiled, %d matched: the generator is too weak", compiled, matched)
	}
}

// genFilter returns a random filter over paths, with literals often taken
// from the document so that many filters match.
func genFilter(rng *rand.Rand, paths, ops, literals []string, depth int) string {
	if depth > 0 && rng.IntN(3) == 0 {
		l, r := genFilter(rng, paths, ops, literals, depth-1), genFilter(rng, paths, ops, literals, depth-1)
		switch rng.IntN(3) {
		case 0:
			return "(" + l + ") and (" + r + ")"
		case 1:
			return l + " or " + r
		default:
			return "not (" + l + ")"
		}
	}
	p := paths[rng.IntN(len(paths))]
	if rng.IntN(8) == 0 {
		return p + " pr"
	}
	if strings.HasPrefix(p, "emails.") && rng.IntN(4) == 0 {
		return `emails[type eq "work" and value co "` + literals[rng.IntN(len(literals))][:1] + `"]`
	}
	lit := strconv.Quote(literals[rng.IntN(len(literals))])
	switch rng.IntN(6) {
	case 0:
		lit = []string{"true", "false"}[rng.IntN(2)]
	case 1:
		lit = strconv.Itoa(rng.IntN(1e6))
	}
	return p + " " + ops[rng.IntN(len(ops))] + " " + lit
}

// literalsOf returns the non-empty strings in doc, at any depth.
func literalsOf(doc any) []string {
	out := []string{"x"}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if v != "" && strconv.Quote(v) == fmt.Sprintf("%q", v) {
				out = append(out, v)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	return out
}
