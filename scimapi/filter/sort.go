package filter

import (
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// Less returns a comparison function for sortBy per RFC 7644 §3.4.2.3.
// Multi-valued attributes sort by their primary value (else the first);
// complex multi-valued attributes without sub-attribute use "value".
// Strings honour caseExact, dateTimes sort chronologically. Missing values
// sort last in ascending order (descending is the exact reverse). RFC 7644
// §3.4.2.3 names no error for an unusable sortBy; it is reported as 400
// invalidValue (§3.12).
func Less(rt *schema.ResourceType, sortBy string, ascending bool) (func(a, b map[string]any) bool, error) {
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
	acc := newAccessor(ref, false)
	key := func(d map[string]any) any { return sortKey(acc.topValue(d), sub) }
	return func(a, b map[string]any) bool {
		ka, kb := key(a), key(b)
		var c int
		switch {
		case ka == nil && kb == nil:
			return false
		case ka == nil:
			c = 1
		case kb == nil:
			c = -1
		default:
			var ok bool
			if c, ok = schema.CompareValues(target, ka, kb); !ok {
				return false
			}
		}
		if ascending {
			return c < 0
		}
		return c > 0
	}, nil
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
