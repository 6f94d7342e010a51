package scimapi

import (
	"container/heap"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/schema"
)

// sortEntry is what a sorted list keeps of one match: its sort key and id,
// never the document.
type sortEntry struct {
	rt  *schema.ResourceType
	id  string
	key any
}

// topK keeps the k first matches in sort order while matches stream past,
// so a sortBy costs memory for k entries (k = startIndex+count-1, at most
// scim.budgets.sort_window), not for every match. Ties are broken by id,
// which makes the order total and stable across pages.
type topK struct {
	s       *filter.Sorter
	k       int
	entries []sortEntry // a heap whose root is the last of the kept entries
}

func newTopK(s *filter.Sorter, k int) *topK {
	return &topK{s: s, k: k, entries: make([]sortEntry, 0, min(k, 1024))}
}

// compare orders two entries: the sort key, then the id.
func (t *topK) compare(a, b sortEntry) int {
	if c := t.s.Compare(a.key, b.key); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// offer considers one match.
func (t *topK) offer(e sortEntry) {
	switch {
	case t.k == 0:
	case len(t.entries) < t.k:
		heap.Push((*entryHeap)(t), e)
	case t.compare(e, t.entries[0]) < 0:
		t.entries[0] = e
		heap.Fix((*entryHeap)(t), 0)
	}
}

// sorted returns the kept entries in sort order.
func (t *topK) sorted() []sortEntry {
	out := slices.Clone(t.entries)
	slices.SortFunc(out, t.compare)
	return out
}

// entryHeap is topK as a container/heap max-heap (the root sorts last).
type entryHeap topK

func (h *entryHeap) Len() int           { return len(h.entries) }
func (h *entryHeap) Less(i, j int) bool { return (*topK)(h).compare(h.entries[i], h.entries[j]) > 0 }
func (h *entryHeap) Swap(i, j int)      { h.entries[i], h.entries[j] = h.entries[j], h.entries[i] }
func (h *entryHeap) Push(x any)         { h.entries = append(h.entries, x.(sortEntry)) }
func (h *entryHeap) Pop() any {
	e := h.entries[len(h.entries)-1]
	h.entries = h.entries[:len(h.entries)-1]
	return e
}
