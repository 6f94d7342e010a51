package filter

import (
	"strings"

	fp "github.com/scim2/filter-parser/v2"
)

// IndexCandidates finds a conjunct `A eq "v"` at the top level of the filter
// (the filter itself or a member of a top-level AND chain) where A is one of
// the indexed attributes (names compared case-insensitively; extension
// attributes URN-qualified; sub-attributes as "attr.sub"). It returns A's canonical name and the literal
// as given by the client; the caller fetches candidates from its index
// (case-insensitively when A is not caseExact) and must still run Match.
func (f *Filter) IndexCandidates(indexed ...string) (attr, value string, ok bool) {
	return indexIn(f.root, indexed)
}

// IndexCandidateSet is like IndexCandidates but also accepts an OR of
// equalities on the same indexed attribute, e.g.
// `id eq "a" or id eq "b"`, returning every literal.
func (f *Filter) IndexCandidateSet(indexed ...string) (attr string, values []string, ok bool) {
	if attr, v, ok := indexIn(f.root, indexed); ok {
		return attr, []string{v}, true
	}
	var collect func(n node) bool
	collect = func(n node) bool {
		switch n := n.(type) {
		case *orNode:
			return collect(n.l) && collect(n.r)
		case *cmpNode:
			name, v, ok := eqLookup(n, indexed)
			if !ok || (attr != "" && name != attr) {
				return false
			}
			attr, values = name, append(values, v)
			return true
		}
		return false
	}
	if _, isOr := f.root.(*orNode); isOr && collect(f.root) {
		return attr, values, true
	}
	return "", nil, false
}

func indexIn(n node, indexed []string) (string, string, bool) {
	switch n := n.(type) {
	case *andNode:
		if a, v, ok := indexIn(n.l, indexed); ok {
			return a, v, true
		}
		return indexIn(n.r, indexed)
	case *cmpNode:
		return eqLookup(n, indexed)
	}
	return "", "", false
}

func eqLookup(n *cmpNode, indexed []string) (string, string, bool) {
	// A sub-attribute is named "attr.sub"; of a multi-valued attribute
	// (emails.value) it matches when any element does, which an index with
	// one entry per element serves exactly.
	if n.op != fp.EQ {
		return "", "", false
	}
	name, ok := indexedName(n, indexed)
	if !ok {
		return "", "", false
	}
	v := n.s
	if n.fold {
		v = n.orig
	}
	return name, v, true
}

// indexedName is the canonical name of the attribute that string
// comparison n reads, when it is one of indexed (compared
// case-insensitively) and an index entry per value serves it.
func indexedName(n *cmpNode, indexed []string) (string, bool) {
	if n.kind != litString || (n.acc.multi && n.acc.sub == "") || n.acc.rel {
		return "", false
	}
	name := n.acc.top
	if n.acc.sub != "" {
		name += "." + n.acc.sub
	}
	if n.acc.ext != "" {
		name = n.acc.ext + ":" + name
	}
	for _, ix := range indexed {
		if strings.EqualFold(ix, name) {
			return name, true
		}
	}
	return "", false
}

// TextMatch is a substring comparison that every resource a filter
// matches satisfies: Op (fp.CO, fp.SW or fp.EW) of Text on Attr, compared
// case-insensitively. A store can find candidates for it in Attr's index,
// whose values are case-folded, instead of reading every document.
type TextMatch struct {
	// Attr is the attribute's canonical name ("attr.sub" for a
	// sub-attribute, URN-qualified in an extension).
	Attr string
	// Op is fp.CO, fp.SW or fp.EW.
	Op fp.CompareOperator
	// Text is the literal lower-cased: printable ASCII, not empty.
	Text string
}

// TextMatches returns the conjuncts `A co|sw|ew "text"` at the top level
// of the filter (the filter itself or members of a top-level AND chain),
// in the filter's order, where A is one of indexed (compared as
// IndexCandidates does) and the literal is plain printable ASCII. Every
// resource the filter matches holds, for each of them, a value of A that
// contains (starts with, ends with) Text, ASCII-case-insensitively,
// whether A is caseExact or not: a case-exact match is also a
// case-insensitive one. The caller must still run Match.
func (f *Filter) TextMatches(indexed ...string) []TextMatch {
	var out []TextMatch
	textIn(f.root, indexed, &out)
	return out
}

func textIn(n node, indexed []string, out *[]TextMatch) {
	switch n := n.(type) {
	case *andNode:
		textIn(n.l, indexed, out)
		textIn(n.r, indexed, out)
	case *cmpNode:
		switch n.op {
		case fp.CO, fp.SW, fp.EW:
		default:
			return
		}
		for i := 0; i < len(n.s); i++ {
			if c := n.s[i]; c < 0x20 || c >= 0x7f {
				return
			}
		}
		if name, ok := indexedName(n, indexed); ok && n.s != "" {
			*out = append(*out, TextMatch{Attr: name, Op: n.op, Text: strings.ToLower(n.s)})
		}
	}
}
