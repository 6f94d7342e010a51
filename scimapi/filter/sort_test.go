package filter

import (
	"slices"
	"testing"

	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

func TestLess(t *testing.T) {
	rt := schema.NewRegistry().Users()
	docs := []map[string]any{
		{"id": "1", "userName": "bob", "meta": map[string]any{"lastModified": "2026-01-01T00:00:00Z"},
			"emails": []any{map[string]any{"value": "z@x"}, map[string]any{"value": "a@x", "primary": true}}},
		{"id": "2", "userName": "Alice", "meta": map[string]any{"lastModified": "2026-01-01T01:00:00+02:00"},
			"emails": []any{map[string]any{"value": "m@x"}}},
		{"id": "3", "meta": map[string]any{"lastModified": "2025-06-01T00:00:00Z"}},
		{"id": "4", "userName": "carol", "externalId": "B"},
		{"id": "5", "userName": "dave", "externalId": "a"},
	}
	tests := []struct {
		sortBy string
		asc    bool
		want   []string
	}{
		// RFC 7644 §3.4.2.3: userName is caseExact=false.
		{"userName", true, []string{"2", "1", "4", "5", "3"}},
		{"userName", false, []string{"3", "5", "4", "1", "2"}},
		{"externalId", true, []string{"4", "5", "1", "2", "3"}}, // caseExact: "B" < "a"
		{"meta.lastModified", true, []string{"3", "2", "1", "4", "5"}},
		{"emails", true, []string{"1", "2", "3", "4", "5"}}, // primary a@x before m@x
		{"emails.value", false, []string{"3", "4", "5", "2", "1"}},
	}
	for _, tt := range tests {
		less, err := Less(rt, tt.sortBy, tt.asc)
		if err != nil {
			t.Fatal(err)
		}
		d := slices.Clone(docs)
		slices.SortStableFunc(d, func(a, b map[string]any) int {
			switch {
			case less(a, b):
				return -1
			case less(b, a):
				return 1
			}
			return 0
		})
		var got []string
		for _, x := range d {
			got = append(got, x["id"].(string))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("sortBy=%s asc=%v: got %v want %v", tt.sortBy, tt.asc, got, tt.want)
		}
	}
	for _, bad := range []string{"nope", "name", "name.nope"} {
		_, err := Less(rt, bad, true)
		if e, ok := scimerr.As(err); !ok || e.ScimType != scimerr.InvalidValue {
			t.Errorf("Less(%q) = %v", bad, err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	rt := schema.NewRegistry().Users()
	doc := decode(b, bjensen)
	f, err := Compile(rt, `active eq true and (meta.lastModified ge "2026-01-01T00:00:00Z" and emails[type eq "work"].value co "EXAMPLE")`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !f.Match(doc) {
			b.Fatal("no match")
		}
	}
}
