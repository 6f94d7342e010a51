package filter

import (
	"strings"

	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// Default limits on a filter (see Limits).
const (
	DefaultMaxLength = 8 << 10
	DefaultMaxDepth  = 32
	DefaultMaxTerms  = 200
)

// Limits bounds the work a client's filter may cause. The parser recurses
// once per nesting level (100,000 nested parentheses overflow the goroutine
// stack, which recover cannot catch) and takes time growing faster than
// linearly with the number of terms, so Check runs one linear pass over the
// text before any parsing. A zero field takes its default.
type Limits struct {
	// MaxLength is the longest filter in bytes.
	MaxLength int
	// MaxDepth is the deepest nesting of "(" and "[" (outside strings).
	MaxDepth int
	// MaxTerms is the largest number of comparisons plus logical
	// operators (and, or, not).
	MaxTerms int
}

// WithDefaults returns l with every zero or negative field set to its
// default.
func (l Limits) WithDefaults() Limits {
	if l.MaxLength <= 0 {
		l.MaxLength = DefaultMaxLength
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxTerms <= 0 {
		l.MaxTerms = DefaultMaxTerms
	}
	return l
}

// Check enforces the limits on s in one pass that skips quoted strings
// (with their backslash escapes), so it costs O(len(s)) whatever s holds.
// A filter over a limit is 400 invalidFilter naming the limit.
func (l Limits) Check(s string) error {
	return l.check("filter", s)
}

// check is Check with the name of the checked text in the detail.
func (l Limits) check(what, s string) error {
	l = l.WithDefaults()
	if len(s) > l.MaxLength {
		return scimerr.BadRequest(scimerr.InvalidFilter, "%s length exceeds %d bytes", what, l.MaxLength)
	}
	depth, terms := 0, 0
	word := -1 // start of the current bare word, or -1
	endWord := func(end int) bool {
		if word >= 0 && isOperator(s[word:end]) {
			terms++
		}
		word = -1
		return terms > l.MaxTerms
	}
	tooMany := func() error {
		return scimerr.BadRequest(scimerr.InvalidFilter, "%s has more than %d terms (comparisons and logical operators)", what, l.MaxTerms)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			if endWord(i) {
				return tooMany()
			}
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '(', '[':
			if endWord(i) {
				return tooMany()
			}
			if depth++; depth > l.MaxDepth {
				return scimerr.BadRequest(scimerr.InvalidFilter, "%s nesting depth exceeds %d", what, l.MaxDepth)
			}
		case ')', ']':
			if endWord(i) {
				return tooMany()
			}
			depth = max(depth-1, 0)
		case ' ', '\t', '\n', '\r':
			if endWord(i) {
				return tooMany()
			}
		default:
			if word < 0 {
				word = i
			}
		}
	}
	if endWord(len(s)) {
		return tooMany()
	}
	return nil
}

// isOperator reports whether w is a comparison or logical operator of RFC
// 7644 §3.4.2.2, in any case.
func isOperator(w string) bool {
	if len(w) != 2 && len(w) != 3 {
		return false
	}
	switch strings.ToLower(w) {
	case "eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le", "pr", "and", "or", "not":
		return true
	}
	return false
}

// CheckPath enforces the limits on a PATCH path (RFC 7644 §3.5.2 PATH),
// whose optional value filter nests and counts like a filter.
func (l Limits) CheckPath(s string) error {
	return l.check("path", s)
}

// Parse is the package-level Parse under the limits l: Check first, then
// the parser.
func (l Limits) Parse(s string) (*Parsed, error) {
	if err := l.Check(s); err != nil {
		return nil, err
	}
	return parse(s)
}

// Compile is the package-level Compile under the limits l.
func (l Limits) Compile(rt *schema.ResourceType, s string) (*Filter, error) {
	p, err := l.Parse(s)
	if err != nil {
		return nil, err
	}
	return p.Compile(rt)
}

// CompileLenient is the package-level CompileLenient under the limits l.
func (l Limits) CompileLenient(rt *schema.ResourceType, s string) (*Filter, error) {
	p, err := l.Parse(s)
	if err != nil {
		return nil, err
	}
	return p.compile(rt, true)
}

// CompileSimple compiles s under the limits l when it has one of the
// shapes the fast path parses (`attr op value` and "and" chains of them),
// which costs a few allocations, so that a caller can skip caching it and
// keep its cache for filters worth caching. ok is false, with a nil error,
// when s needs the full parser: call Compile or CompileLenient then. A
// filter over the limits is refused here (ok true, error set).
func (l Limits) CompileSimple(rt *schema.ResourceType, s string, lenient bool) (f *Filter, ok bool, err error) {
	if err := l.Check(s); err != nil {
		return nil, true, err
	}
	e, ok := parseFast(s)
	if !ok {
		return nil, false, nil
	}
	f, err = (&Parsed{Expr: e}).compile(rt, lenient)
	return f, true, err
}
