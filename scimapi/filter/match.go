package filter

import (
	"strings"
	"time"
	"unicode/utf8"

	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/scimapi/schema"
)

// Match reports whether doc matches the filter. doc must use canonical
// attribute names as produced by schema.Normalize, with "id" and "meta" at
// top level and extension attributes under their URN key.
func (f *Filter) Match(doc map[string]any) bool {
	return f.root.match(doc)
}

type node interface {
	match(doc map[string]any) bool
}

// absentNode is an attribute the resource type does not define (lenient
// compilation): like an absent attribute, it matches no comparison.
type absentNode struct{}

func (absentNode) match(map[string]any) bool { return false }

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ n node }

func (n *andNode) match(d map[string]any) bool { return n.l.match(d) && n.r.match(d) }
func (n *orNode) match(d map[string]any) bool  { return n.l.match(d) || n.r.match(d) }
func (n *notNode) match(d map[string]any) bool { return !n.n.match(d) }

// accessor locates the values of one attribute path in a document (or, when
// rel is set, in one element of a value path).
type accessor struct {
	ext   string // extension URN key; "" for core attributes
	top   string // canonical top-level name
	sub   string // canonical sub-attribute name or ""
	multi bool   // top is multi-valued
	rel   bool   // the document is an element; only sub is read
}

func newAccessor(ref schema.AttrRef, rel bool) accessor {
	a := accessor{top: ref.Attr.Name, multi: ref.Attr.MultiValued, rel: rel}
	if ref.Extension {
		a.ext = ref.Schema.ID
	}
	if ref.Sub != nil {
		a.sub = ref.Sub.Name
	}
	return a
}

// topValue returns the raw top-level value.
func (a *accessor) topValue(doc map[string]any) any {
	if a.ext != "" {
		m, _ := doc[a.ext].(map[string]any)
		if m == nil {
			return nil
		}
		return m[a.top]
	}
	return doc[a.top]
}

// each calls f for every value of the path (nil once when there is none)
// and reports whether any call returned true.
func (a *accessor) each(doc map[string]any, f func(any) bool) bool {
	if a.rel {
		return f(doc[a.sub])
	}
	v := a.topValue(doc)
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return f(nil)
		}
		for _, e := range x {
			if a.sub != "" {
				m, _ := e.(map[string]any)
				e = nil
				if m != nil {
					e = m[a.sub]
				}
			}
			if f(e) {
				return true
			}
		}
		return false
	case map[string]any:
		if a.sub != "" {
			return f(x[a.sub])
		}
	}
	if a.sub != "" {
		return f(nil)
	}
	return f(v)
}

type presentNode struct{ acc accessor }

func (n *presentNode) match(d map[string]any) bool { return n.acc.each(d, present) }

// present implements "pr": not null, not "", not an empty array or object.
func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// valuePathNode matches when some element of a complex attribute matches
// the inner filter.
type valuePathNode struct {
	acc   accessor
	inner node
}

func (n *valuePathNode) match(d map[string]any) bool {
	switch x := n.acc.topValue(d).(type) {
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok && n.inner.match(m) {
				return true
			}
		}
	case map[string]any:
		return n.inner.match(x)
	}
	return false
}

type litKind uint8

const (
	litNull litKind = iota
	litBool
	litNum
	litString
	litTime
)

// cmpNode compares the values of an attribute with a literal; "ne" is
// compiled as not(eq) so that it holds when no value equals the literal.
type cmpNode struct {
	acc  accessor
	op   fp.CompareOperator
	attr *schema.Attribute
	kind litKind
	fold bool // case-insensitive; s is lower-cased
	s    string
	orig string // literal as given
	b    bool
	f    float64
	t    time.Time
}

func (n *cmpNode) match(d map[string]any) bool { return n.acc.each(d, n.test) }

func (n *cmpNode) test(v any) bool {
	switch n.kind {
	case litNull:
		return v == nil
	case litBool:
		b, ok := v.(bool)
		return ok && b == n.b
	case litNum:
		f, ok := schema.ToFloat(v)
		if !ok {
			return false
		}
		return n.order(cmpFloat(f, n.f))
	case litTime:
		s, ok := v.(string)
		if !ok {
			return false
		}
		t, err := schema.ParseDateTime(s)
		if err != nil {
			return false
		}
		return n.order(t.Compare(n.t))
	case litString:
		s, ok := v.(string)
		if !ok {
			return false
		}
		switch n.op {
		case fp.EQ:
			if n.fold {
				return strings.EqualFold(s, n.s)
			}
			return s == n.s
		case fp.CO:
			if n.fold {
				return containsFold(s, n.s)
			}
			return strings.Contains(s, n.s)
		case fp.SW:
			if n.fold {
				return len(s) >= len(n.s) && strings.EqualFold(s[:len(n.s)], n.s)
			}
			return strings.HasPrefix(s, n.s)
		case fp.EW:
			if n.fold {
				return len(s) >= len(n.s) && strings.EqualFold(s[len(s)-len(n.s):], n.s)
			}
			return strings.HasSuffix(s, n.s)
		}
		if n.fold {
			return n.order(schema.CompareFold(s, n.s))
		}
		return n.order(strings.Compare(s, n.s))
	}
	return false
}

// order applies an eq/gt/ge/lt/le operator to a comparison result.
func (n *cmpNode) order(c int) bool {
	switch n.op {
	case fp.EQ:
		return c == 0
	case fp.GT:
		return c > 0
	case fp.GE:
		return c >= 0
	case fp.LT:
		return c < 0
	case fp.LE:
		return c <= 0
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// containsFold reports whether lower-cased sub occurs in s, ignoring case.
func containsFold(s, sub string) bool {
	if !isASCII(s) {
		return strings.Contains(strings.ToLower(s), sub)
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
