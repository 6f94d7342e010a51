package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// norm is the index key of value v: as is, or for a case-insensitive index
// its case fold. The indexes of the first key layout (User userName, Group
// displayName) keep strings.ToLower, which their stored entries were
// written with; a backfilled index uses foldKey, so an index lookup finds
// exactly what the filter's strings.EqualFold matches (ToLower keeps "ſ"
// apart from "s" and "ς" from "σ", which EqualFold joins).
func (ix index) norm(v string) string {
	switch {
	case !ix.fold:
		return v
	case ix.backfill:
		return foldKey(v)
	default:
		return strings.ToLower(v)
	}
}

// foldKey maps s to one representative of its simple case folding class:
// foldKey(a) == foldKey(b) exactly when strings.EqualFold(a, b). Each rune
// becomes the smallest rune of its unicode.SimpleFold orbit, lower-cased
// when that is an ASCII letter, so ASCII text folds to strings.ToLower.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		if m < utf8.RuneSelf {
			m = unicode.ToLower(m)
		}
		b.WriteRune(m)
	}
	return b.String()
}
