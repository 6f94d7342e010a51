package filter

import (
	"strings"

	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/scimapi/schema"
)

// Needle is a text that every matching resource's stored attributes JSON
// contains (see Filter.Needles).
type Needle struct {
	Text string // printable ASCII, none of " \ < > &
	Fold bool   // compared case-insensitively; Text is lower-cased
}

// Needles returns texts that the stored JSON of every resource matching
// the filter contains, literally or (Fold) as ContainsFold finds them: the
// string literals of eq, co, sw and ew comparisons on stored attributes
// that the filter requires (and-ed, possibly inside value paths). A scan
// may skip a document lacking one without decoding it. Only literals that
// encoding/json writes unchanged count; none (nil) means no shortcut.
// Attributes the gateway adds when rendering (id, meta, schemas, groups,
// members, the role extension) never yield needles.
func (f *Filter) Needles() []Needle {
	var out []Needle
	collectNeedles(f.root, &out)
	return out
}

func collectNeedles(n node, out *[]Needle) {
	switch x := n.(type) {
	case *andNode:
		collectNeedles(x.l, out)
		collectNeedles(x.r, out)
	case *valuePathNode:
		if storedAttr(x.acc) {
			collectNeedles(x.inner, out)
		}
	case *cmpNode:
		if x.kind != litString || !storedAttr(x.acc) || x.s == "" || !plainASCII(x.s) {
			return
		}
		switch x.op {
		case fp.EQ, fp.CO, fp.SW, fp.EW:
			*out = append(*out, Needle{Text: x.s, Fold: x.fold})
		}
	}
}

// storedAttr reports whether the accessor reads an attribute kept in the
// stored document (not one render adds).
func storedAttr(a accessor) bool {
	if a.ext != "" {
		return a.ext != schema.RoleExtensionURN
	}
	switch a.top {
	case "id", "meta", "schemas", "groups", "members":
		return false
	}
	return true
}

// plainASCII reports whether encoding/json writes s unchanged inside a
// string: printable ASCII without ", \, <, > and &.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// foldRunes are the UTF-8 encodings of the non-ASCII runes that match an
// ASCII letter case-insensitively under the filter's comparisons
// (strings.EqualFold, or strings.ToLower then compare): the Kelvin sign,
// the long s and the capital I with dot above. TestFoldRunesComplete checks
// the list against every Unicode rune.
var foldRunes = map[byte]string{'k': "\u212a", 's': "\u017f", 'i': "\u0130"}

// ContainsFold reports whether doc contains lower-case ASCII needle, each
// letter matching either ASCII case or a non-ASCII rune the filter's
// case-insensitive comparisons equate with it. It errs only towards true.
func ContainsFold(doc, needle string) bool {
	if needle == "" {
		return true
	}
	first := needle[0]
	upper := first
	if first >= 'a' && first <= 'z' {
		upper = first - 'a' + 'A'
	}
	alt := foldRunes[first]
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if c != first && c != upper && (alt == "" || c != alt[0]) {
			continue
		}
		if foldAt(doc, i, needle) {
			return true
		}
	}
	return false
}

// foldAt reports whether needle matches doc at i (see ContainsFold).
func foldAt(doc string, i int, needle string) bool {
	for j := 0; j < len(needle); j++ {
		if i >= len(doc) {
			return false
		}
		n, c := needle[j], doc[i]
		if c == n || (n >= 'a' && n <= 'z' && c == n-'a'+'A') {
			i++
			continue
		}
		alt, ok := foldRunes[n]
		if !ok || len(doc)-i < len(alt) || doc[i:i+len(alt)] != alt {
			return false
		}
		i += len(alt)
	}
	return true
}

// MayMatch reports whether doc, a resource's stored attributes JSON,
// contains every needle; false means the filter the needles came from
// cannot match the resource. A document with escapes encoding/json does
// not write for plain text is not judged (true).
func MayMatch(doc string, needles []Needle) bool {
	if len(needles) == 0 || strings.Contains(doc, `\u00`) || strings.Contains(doc, `\/`) {
		return true
	}
	for _, n := range needles {
		if n.Fold {
			if !ContainsFold(doc, n.Text) {
				return false
			}
		} else if !strings.Contains(doc, n.Text) {
			return false
		}
	}
	return true
}
