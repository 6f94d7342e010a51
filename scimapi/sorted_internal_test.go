package scimapi

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/schema"
)

// TestTopKBound: over 50,000 streamed matches the sort never holds more
// than k entries, and what it keeps is exactly the first k of a full sort.
// The memory of a sortBy is therefore k × (key + id), independent of the
// number of matches.
func TestTopKBound(t *testing.T) {
	rt := schema.NewRegistry().Users()
	for _, asc := range []bool{true, false} {
		s, err := filter.NewSorter(rt, "name.familyName", asc)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		const k = 137
		top := newTopK(s, k)
		var all []sortEntry
		for i := 0; i < 50_000; i++ {
			doc := map[string]any{}
			if rng.IntN(10) > 0 {
				doc["name"] = map[string]any{"familyName": fmt.Sprintf("F%04d", rng.IntN(3000))}
			}
			e := sortEntry{rt: rt, id: fmt.Sprintf("%08d", rng.IntN(1<<30)), key: s.Key(doc)}
			top.offer(e)
			all = append(all, e)
			if len(top.entries) > k || cap(top.entries) > 1024 {
				t.Fatalf("after %d offers the sort holds %d entries (cap %d), bound %d", i+1, len(top.entries), cap(top.entries), k)
			}
		}
		slices.SortFunc(all, top.compare)
		got := top.sorted()
		if len(got) != k {
			t.Fatalf("kept %d", len(got))
		}
		for i := range got {
			if got[i].id != all[i].id {
				t.Fatalf("ascending=%v position %d: %v, want %v", asc, i, got[i], all[i])
			}
		}
	}
	none := newTopK(nil, 0)
	none.offer(sortEntry{id: "x"})
	if len(none.entries) != 0 {
		t.Fatal("k=0 keeps entries")
	}
}
