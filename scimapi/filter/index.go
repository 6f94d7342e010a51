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
	if n.op != fp.EQ || n.kind != litString || (n.acc.multi && n.acc.sub == "") || n.acc.rel {
		return "", "", false
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
			v := n.s
			if n.fold {
				v = n.orig
			}
			return name, v, true
		}
	}
	return "", "", false
}
