package filter

import (
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// Sorter orders resources for sortBy per RFC 7644 §3.4.2.3. It works on
// keys extracted once per resource (Key), so a caller can keep just the key
// and id of each match instead of whole documents. Multi-valued attributes
// sort by their primary value (else the first); complex multi-valued
// attributes without sub-attribute use "value". Strings honour caseExact,
// dateTimes sort chronologically. Missing values sort last in ascending
// order (descending is the exact reverse).
type Sorter struct {
	acc       accessor
	sub       string
	target    *schema.Attribute
	ascending bool
}

// NewSorter returns the Sorter of sortBy on rt. RFC 7644 §3.4.2.3 names no
// error for an unusable sortBy; it is reported as 400 invalidValue (§3.12).
func NewSorter(rt *schema.ResourceType, sortBy string, ascending bool) (*Sorter, error) {
	ref, err := rt.Resolve(sortBy)
	if err != nil {
		return nil, scimerr.BadRequest(scimerr.InvalidValue, "invalid sortBy %q: %v", sortBy, err)
	}
	target := ref.Target()
	sub := ""
	if ref.Sub != nil {
		sub = ref.Sub.Name
	} else if ref.Attr.Type == schema.TypeComplex {
		v := ref.Attr.SubAttribute("value")
		if !ref.Attr.MultiValued || v == nil {
			return nil, scimerr.BadRequest(scimerr.InvalidValue, "invalid sortBy %q: complex attribute", sortBy)
		}
		target, sub = v, v.Name
	}
	return &Sorter{acc: newAccessor(ref, false), sub: sub, target: target, ascending: ascending}, nil
}

// Key returns the value doc sorts by (nil when it has none). It is a
// scalar (string, number, boolean) that does not refer to the rest of doc.
func (s *Sorter) Key(doc map[string]any) any {
	switch k := sortKey(s.acc.topValue(doc), s.sub).(type) {
	case string, float64, bool, int, int64, nil:
		return k
	default:
		return nil // not a sortable scalar
	}
}

// Compare orders two keys: negative when a comes first, positive when b
// does, 0 when they tie (or cannot be compared).
func (s *Sorter) Compare(a, b any) int {
	var c int
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		c = 1
	case b == nil:
		c = -1
	default:
		var ok bool
		if c, ok = schema.CompareValues(s.target, a, b); !ok {
			return 0
		}
	}
	if s.ascending {
		return c
	}
	return -c
}

// Less returns a comparison function for sortBy (see Sorter).
func Less(rt *schema.ResourceType, sortBy string, ascending bool) (func(a, b map[string]any) bool, error) {
	s, err := NewSorter(rt, sortBy, ascending)
	if err != nil {
		return nil, err
	}
	return func(a, b map[string]any) bool { return s.Compare(s.Key(a), s.Key(b)) < 0 }, nil
}

// sortKey picks the value to sort by from a top-level value.
func sortKey(v any, sub string) any {
	if arr, ok := v.([]any); ok {
		if len(arr) == 0 {
			return nil
		}
		pick := arr[0]
		for _, e := range arr {
			if m, ok := e.(map[string]any); ok && m["primary"] == true {
				pick = e
				break
			}
		}
		v = pick
	}
	if sub == "" {
		return v
	}
	m, _ := v.(map[string]any)
	if m == nil {
		return nil
	}
	return m[sub]
}
