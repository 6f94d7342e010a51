// Package filter compiles and evaluates SCIM filters (RFC 7644 §3.4.2.2)
// against resources held as map[string]any, plans index lookups and
// implements sorting (RFC 7644 §3.4.2.3).
package filter

import (
	"strings"

	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// Parsed is a syntactically valid filter not yet bound to a resource type.
type Parsed struct {
	// Expr is the parser's expression tree.
	Expr fp.Expression
	// suffixes[i] is the comparison that followed the i-th value path in
	// the Entra form `emails[type eq "work"].value eq "x"`, or nil.
	suffixes []*fp.AttributeExpression
}

// Parse parses a filter expression. Besides the RFC 7644 grammar it
// accepts the form `attr[valFilter].subAttr op value` sent by Microsoft
// Entra, meaning "some element matches valFilter and has subAttr op value".
// Syntax errors are 400 invalidFilter. Parse applies the default Limits;
// Limits.Parse applies others.
func Parse(s string) (*Parsed, error) {
	return Limits{}.Parse(s)
}

// parse parses s, which has passed the limits check: the common shapes
// by parseFast, the rest by the full parser.
func parse(s string) (*Parsed, error) {
	if e, ok := parseFast(s); ok {
		return &Parsed{Expr: e}, nil
	}
	return parseFull(s)
}

// parseFull parses s with the full grammar.
func parseFull(s string) (*Parsed, error) {
	rest, suffixes, err := extractSuffixes(s)
	if err != nil {
		return nil, err
	}
	expr, err := fp.ParseFilter([]byte(rest))
	if err != nil {
		return nil, syntaxError(s)
	}
	return &Parsed{Expr: expr, suffixes: suffixes}, nil
}

// extractSuffixes removes every `.subAttr op value` following a value
// path's closing bracket, returning the rewritten filter and the parsed
// suffix comparison per value path (by order of appearance).
func extractSuffixes(s string) (string, []*fp.AttributeExpression, error) {
	if !strings.Contains(s, "].") {
		return s, nil, nil
	}
	var (
		b        strings.Builder
		suffixes []*fp.AttributeExpression
		found    bool
		inStr    bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		b.WriteByte(c)
		if inStr {
			switch c {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(s[i])
				}
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '[':
			suffixes = append(suffixes, nil)
		case ']':
			if i+1 >= len(s) || s[i+1] != '.' || len(suffixes) == 0 {
				continue
			}
			end := scanSuffix(s, i+2)
			if end < 0 {
				return "", nil, syntaxError(s)
			}
			exp, err := fp.ParseAttrExp([]byte(s[i+2 : end]))
			if err != nil {
				return "", nil, syntaxError(s)
			}
			suffixes[len(suffixes)-1] = &exp
			found = true
			i = end - 1
		}
	}
	if !found {
		return s, nil, nil
	}
	return b.String(), suffixes, nil
}

// scanSuffix returns the end offset of `name SP op [SP value]` starting at
// i, or -1.
func scanSuffix(s string, i int) int {
	j := i
	for j < len(s) && isNameChar(s[j]) {
		j++
	}
	if j == i || j >= len(s) || s[j] != ' ' {
		return -1
	}
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j+2 > len(s) {
		return -1
	}
	op := s[j : j+2]
	j += 2
	if strings.EqualFold(op, "pr") {
		return j
	}
	if j >= len(s) || s[j] != ' ' {
		return -1
	}
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j < len(s) && s[j] == '"' {
		for j++; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return -1
	}
	k := j
	for k < len(s) && s[k] != ' ' && s[k] != ')' && s[k] != ']' {
		k++
	}
	if k == j {
		return -1
	}
	return k
}

func isNameChar(c byte) bool {
	return c == '-' || c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// syntaxError is the 400 invalidFilter for a filter that does not parse,
// with a one-line detail naming what was expected where.
func syntaxError(s string) error {
	d := describeSyntaxError(s)
	if strings.HasPrefix(d, "at ") {
		return scimerr.BadRequest(scimerr.InvalidFilter, "invalid filter %s", d)
	}
	return scimerr.BadRequest(scimerr.InvalidFilter, "invalid filter: %s", d)
}
