package scimapi

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

// genText returns a random string, sometimes one that JSON must escape.
func genText(rng *rand.Rand) string {
	pool := []string{"Ann", "o'Neil", `say "hi"`, "a<b>&c", "back\\slash", "tab\there", "nl\n", "ünïcödé", "日本語",
		"line\u2028sep", "bad\xffutf8", "KELVIN\u212a", "", "x@example.com", "\u0001ctl"}
	return pool[rng.IntN(len(pool))] + fmt.Sprint(rng.IntN(1000))
}

// genUserAttrs returns stored User attributes as a write could leave them,
// plus, now and then, shapes the default projection changes (returned
// never or request attributes, empty complex values, unknown or
// differently-cased keys, an empty extension object).
func genUserAttrs(rng *rand.Rand) map[string]any {
	a := map[string]any{
		"schemas":  []any{schema.UserSchemaURN},
		"userName": genText(rng) + "@example.com",
	}
	maybe := func(p float64, k string, v func() any) {
		if rng.Float64() < p {
			a[k] = v()
		}
	}
	maybe(0.7, "name", func() any {
		return map[string]any{"givenName": genText(rng), "familyName": genText(rng), "formatted": genText(rng)}
	})
	maybe(0.6, "displayName", func() any { return genText(rng) })
	maybe(0.6, "active", func() any { return rng.IntN(2) == 0 })
	maybe(0.5, "externalId", func() any { return genText(rng) })
	maybe(0.6, "emails", func() any {
		var out []any
		for range 1 + rng.IntN(3) {
			out = append(out, map[string]any{"value": genText(rng), "type": "work", "primary": rng.IntN(2) == 0})
		}
		return out
	})
	maybe(0.3, "roles", func() any { return []any{map[string]any{"value": genText(rng)}} })
	maybe(0.3, "addresses", func() any {
		return []any{map[string]any{"streetAddress": genText(rng), "locality": genText(rng), "country": "DE"}}
	})
	maybe(0.3, schema.EnterpriseUserURN, func() any {
		return map[string]any{"employeeNumber": fmt.Sprint(rng.IntN(1e6)), "costCenter": 4.5,
			"manager": map[string]any{"value": genText(rng), "displayName": genText(rng)}}
	})
	// Shapes the projection changes or the fast path does not judge.
	maybe(0.05, "password", func() any { return "secret" })
	maybe(0.05, "emails", func() any { return []any{} })
	maybe(0.05, "name", func() any { return map[string]any{} })
	maybe(0.05, "phoneNumbers", func() any { return []any{"not-an-object"} })
	maybe(0.05, schema.EnterpriseUserURN, func() any { return map[string]any{} })
	maybe(0.05, "nickname", func() any { return nil })
	maybe(0.05, "NickName", func() any { return "cased" })
	maybe(0.05, "x-unknown", func() any { return 1 })
	maybe(0.05, "urn:example:ext:1.0:User", func() any {
		return map[string]any{"secret": "s", "shown": "v", "tags": []any{map[string]any{"hidden": "h"}}}
	})
	return a
}

func genGroupAttrs(rng *rand.Rand) map[string]any {
	a := map[string]any{"schemas": []any{schema.GroupSchemaURN}, "displayName": genText(rng)}
	if rng.IntN(2) == 0 {
		a["externalId"] = genText(rng)
	}
	return a
}

// testExtension is a User extension with a returned "request" attribute
// and a complex one with a returned "never" sub-attribute.
func testExtension() *schema.Schema {
	return &schema.Schema{ID: "urn:example:ext:1.0:User", Name: "Ext", Attributes: []*schema.Attribute{
		{Name: "secret", Type: schema.TypeString, Returned: schema.ReturnedRequest},
		{Name: "shown", Type: schema.TypeString, Returned: schema.ReturnedDefault},
		{Name: "tags", Type: schema.TypeComplex, MultiValued: true, Returned: schema.ReturnedDefault, SubAttributes: []*schema.Attribute{
			{Name: "hidden", Type: schema.TypeString, Returned: schema.ReturnedNever},
			{Name: "value", Type: schema.TypeString, Returned: schema.ReturnedDefault},
		}},
	}}
}

// TestFastRenderEqualsSlow: for generated Users (with groups, roles,
// extensions) and Groups (with members), the response spliced from the
// stored JSON is the same JSON as the decoded, projected and re-encoded
// one (RFC 7644 §3.4.2.5 default projection), and the fast path is taken
// for the ordinary documents.
func TestFastRenderEqualsSlow(t *testing.T) {
	reg := schema.NewRegistry()
	reg.AddUserExtension(testExtension(), false)
	reg.AddUserExtension(schema.RoleExtension(), false)
	h := New(reg, nil, Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	base := "https://gw.example.com/scim/v2"
	fast, total := 0, 0
	now := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	for i := range 3000 {
		rt := reg.Users()
		var attrs map[string]any
		r := &store.Resource{ID: fmt.Sprintf("0190-%d", i), Version: int64(1 + rng.IntN(50)),
			Created: now, Modified: now.Add(time.Duration(rng.IntN(1e9)))}
		if i%4 == 3 {
			rt, r.Type, attrs = reg.Groups(), store.TypeGroup, genGroupAttrs(rng)
			for j := range rng.IntN(4) {
				m := store.Member{Value: fmt.Sprintf("m%d", j), Type: []string{"User", "Group"}[rng.IntN(2)]}
				if rng.IntN(2) == 0 {
					m.Display = genText(rng)
				}
				r.Members = append(r.Members, m)
			}
		} else {
			r.Type, attrs = store.TypeUser, genUserAttrs(rng)
			for j := range rng.IntN(3) {
				r.Groups = append(r.Groups, store.Member{Value: fmt.Sprintf("g%d", j), Type: store.TypeGroup, Display: genText(rng)})
			}
			if rng.IntN(10) == 0 {
				r.Role = "admin"
			}
		}
		doc, err := json.Marshal(attrs)
		if err != nil {
			t.Fatal(err)
		}
		r.Doc = string(doc)
		if rng.IntN(20) == 0 {
			r.Doc = " " + r.Doc + "\n"
		}
		slowRes := *r
		if err := slowRes.DecodeAttrs(); err != nil {
			t.Fatal(err)
		}
		slow, err := json.Marshal(schema.Project(rt, render(rt, &slowRes, base), nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		if h.fastRenderable(rt, r, projection{}) {
			fast++
		}
		total++
		got, err := h.renderJSON(nil, rt, r, base, projection{})
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("fast body is not JSON: %v\n%s", err, got)
		}
		if err := json.Unmarshal(slow, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("resource %d (%s): fast and slow bodies differ\nstored: %s\nfast:   %s\nslow:   %s", i, r.Type, r.Doc, got, slow)
		}
	}
	if fast < total/2 || fast == total {
		t.Fatalf("fast path taken for %d of %d resources; want most but not all", fast, total)
	}
	t.Logf("fast path: %d of %d", fast, total)
}

// TestAppendJSONString: the splice escapes strings as encoding/json does.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "<&>", "\x00\x1f\n\r\t", "ü日\u2028\u2029", "bad\xff\xfe", "\xe2\x82"} {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}
