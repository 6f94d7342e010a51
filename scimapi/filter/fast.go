package filter

import (
	"strings"
	"unicode/utf8"

	fp "github.com/scim2/filter-parser/v2"
)

// maxFastTerms is the longest "and" chain parseFast takes on; longer
// chains go to the full parser.
const maxFastTerms = 8

// parseFast parses the filters IdPs send on every lookup without the PEG
// parser, which allocates thousands of times per filter: one comparison
// `attr op value` or an "and" chain of them, where attr is a name with an
// optional sub-attribute (no schema URN), op any comparison operator or pr
// (any case), and value a string, true, false or null. It returns the
// expression tree the full parser (fp.ParseFilter) builds for s, or false
// when s has any other shape, in which case the caller runs the full
// parser: parseFast never rejects a filter, it only declines. Its
// acceptance is a strict subset of the grammar of RFC 7644 §3.4.2.2 as the
// parser implements it (single spaces only as SP, escapes as in
// RFC 8259 §7 with upper-case hex digits), which fast_test.go checks
// against the parser on generated filters.
func parseFast(s string) (fp.Expression, bool) {
	var terms [maxFastTerms]*fp.AttributeExpression
	n, i := 0, 0
	for {
		if n == maxFastTerms {
			return nil, false
		}
		t, end, ok := fastTerm(s, i)
		if !ok {
			return nil, false
		}
		terms[n], n, i = t, n+1, end
		if i == len(s) {
			break
		}
		// SP+ "and" SP+ between terms; anything else (or, a trailing
		// space, …) is for the full parser.
		j := skipSP(s, i)
		if j == i || j+3 > len(s) || !strings.EqualFold(s[j:j+3], "and") {
			return nil, false
		}
		k := skipSP(s, j+3)
		if k == j+3 {
			return nil, false
		}
		i = k
	}
	// Fold left like the parser: ((t0 and t1) and t2) …
	var e fp.Expression = terms[0]
	for _, t := range terms[1:n] {
		e = &fp.LogicalExpression{Left: e, Right: t, Operator: fp.AND}
	}
	return e, true
}

// fastTerm parses `attrPath SP+ (pr | op SP+ value)` at s[i:], returning
// the expression and the offset after it.
func fastTerm(s string, i int) (*fp.AttributeExpression, int, bool) {
	name, i, ok := fastName(s, i)
	if !ok {
		return nil, 0, false
	}
	var ap fp.AttributePath
	ap.AttributeName = name
	if i < len(s) && s[i] == '.' {
		var sub string
		if sub, i, ok = fastName(s, i+1); !ok {
			return nil, 0, false
		}
		ap.SubAttribute = &sub
	}
	j := skipSP(s, i)
	if j == i || j+2 > len(s) {
		return nil, 0, false
	}
	opText := s[j : j+2]
	i = j + 2
	if strings.EqualFold(opText, "pr") {
		if i < len(s) && s[i] != ' ' {
			return nil, 0, false
		}
		return &fp.AttributeExpression{AttributePath: ap, Operator: fp.PR}, i, true
	}
	op := fastOp(opText)
	if op == "" {
		return nil, 0, false
	}
	j = skipSP(s, i)
	if j == i || j >= len(s) {
		return nil, 0, false
	}
	var v any
	if s[j] == '"' {
		end, ok := fastString(s, j)
		if !ok {
			return nil, 0, false
		}
		v, i = s[j+1:end-1], end
	} else {
		k := j
		for k < len(s) && s[k] != ' ' {
			k++
		}
		switch strings.ToLower(s[j:k]) {
		case "true":
			v = true
		case "false":
			v = false
		case "null":
			v = nil
		default:
			return nil, 0, false // numbers and the rest: full parser
		}
		i = k
	}
	return &fp.AttributeExpression{AttributePath: ap, Operator: op, CompareValue: v}, i, true
}

// fastName scans ATTRNAME = ["$"] ALPHA *(ALPHA / DIGIT / "-" / "_") at
// s[i:]. It declines a name followed by ":" (a schema URN prefix).
func fastName(s string, i int) (string, int, bool) {
	start := i
	if i < len(s) && s[i] == '$' {
		i++
	}
	if i >= len(s) || !isAlpha(s[i]) {
		return "", 0, false
	}
	for i++; i < len(s) && (isAlpha(s[i]) || s[i] >= '0' && s[i] <= '9' || s[i] == '-' || s[i] == '_'); i++ {
	}
	if i < len(s) && s[i] == ':' {
		return "", 0, false
	}
	return s[start:i], i, true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// SplitAttrPath splits s when it is a plain attrPath of RFC 7644
// §3.4.2.2, [URI ":"] ATTRNAME ["." ATTRNAME] (`title`,
// `name.familyName`, `urn:…:User:department`), into the parts the PEG
// parser gives (fp.ParsePath: the URI without its last colon, the
// attribute and the sub-attribute names), without the parser's cost; ok
// is false for any other s (a value path among them), which the caller
// gives the parser. TestSplitAttrPathMatchesTheParser holds it to the
// parser over generated paths.
func SplitAttrPath(s string) (uri, name, sub string, ok bool) {
	attr := s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		// the parser's URI: segments of letters, digits, '-' and '.',
		// each ending in ':'
		uri, attr = s[:i], s[i+1:]
		for seg := range strings.SplitSeq(uri, ":") {
			if seg == "" || strings.ContainsFunc(seg, func(r rune) bool {
				return r >= utf8.RuneSelf || !isAlpha(byte(r)) && (r < '0' || r > '9') && r != '-' && r != '.'
			}) {
				return "", "", "", false
			}
		}
	}
	name, i, ok := fastName(attr, 0)
	if !ok {
		return "", "", "", false
	}
	if i < len(attr) && attr[i] == '.' {
		if sub, i, ok = fastName(attr, i+1); !ok {
			return "", "", "", false
		}
	}
	if i != len(attr) {
		return "", "", "", false
	}
	return uri, name, sub, true
}

func skipSP(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// fastOp returns the lower-case comparison operator (other than pr) that
// op spells in any case, or "".
func fastOp(op string) fp.CompareOperator {
	switch strings.ToLower(op) {
	case "eq":
		return fp.EQ
	case "ne":
		return fp.NE
	case "co":
		return fp.CO
	case "sw":
		return fp.SW
	case "ew":
		return fp.EW
	case "gt":
		return fp.GT
	case "lt":
		return fp.LT
	case "ge":
		return fp.GE
	case "le":
		return fp.LE
	}
	return ""
}

// fastString scans the quoted string starting at s[i] == '"' and returns
// the offset after its closing quote. It accepts exactly what the parser's
// String rule does (RFC 8259 §7: no control characters; escapes \" \\ \/
// \b \f \n \r \t and \u with four digits or upper-case A-F) on valid UTF-8,
// and declines the rest.
func fastString(s string, i int) (int, bool) {
	for i++; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			if i++; i >= len(s) {
				return 0, false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s) {
					return 0, false
				}
				for k := i + 1; k <= i+4; k++ {
					if h := s[k]; !(h >= '0' && h <= '9' || h >= 'A' && h <= 'F') {
						return 0, false
					}
				}
				i += 4
			default:
				return 0, false
			}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				return 0, false
			}
			i += size - 1
		}
	}
	return 0, false
}
