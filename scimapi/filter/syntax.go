package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// describeSyntaxError explains in one line why s does not parse, naming
// what was expected and at which character (counted from 1), instead of
// the parser's internals. It walks the tokens of RFC 7644 §3.4.2.2 once
// (linear; s has passed the limits) and stops at the first that cannot
// follow the ones before. When the walk finds nothing the parser refused
// something finer (e.g. a malformed number) and the detail says so.
func describeSyntaxError(s string) string {
	const (
		wantAttr  = iota // an attribute path, "not" or "("
		wantOp           // a comparison operator, or "[" after a complex attribute
		wantValue        // a literal
		wantLogic        // and, or, ")" , "]" or the end
	)
	state, depth, prev := wantAttr, 0, ""
	at := func(i int) int { return utf8.RuneCountInString(s[:i]) + 1 }
	for i := 0; i < len(s); {
		c := s[i]
		if c == ' ' {
			i++
			continue
		}
		start := i
		var tok string
		switch c {
		case '(', ')', '[', ']':
			i++
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
			if i >= len(s) {
				return fmt.Sprintf("at character %d: the string is not closed with \"", at(start))
			}
			i++
		default:
			for i < len(s) && !strings.ContainsRune(` ()[]"`, rune(s[i])) {
				i++
			}
		}
		tok = s[start:i]
		lower := strings.ToLower(tok)
		switch state {
		case wantAttr:
			switch {
			case prev != "" && strings.EqualFold(prev, "not") && tok != "(":
				return fmt.Sprintf("at character %d: expected \"(\" after not, got %s", at(start), quoteTok(tok))
			case lower == "not":
			case tok == "(":
				depth++
			case isAttrPath(tok) && !isOperator(tok):
				state = wantOp
			default:
				return fmt.Sprintf("at character %d: expected an attribute name, \"not\" or \"(\", got %s", at(start), quoteTok(tok))
			}
		case wantOp:
			switch {
			case tok == "[":
				depth++
				state = wantAttr
			case lower == "pr":
				state = wantLogic
			case isOperator(tok) && lower != "and" && lower != "or" && lower != "not":
				state = wantValue
			default:
				return fmt.Sprintf("at character %d: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after %s, got %s", at(start), quoteTok(prev), quoteTok(tok))
			}
		case wantValue:
			if tok[0] != '"' && lower != "true" && lower != "false" && lower != "null" && !isNumber(tok) {
				return fmt.Sprintf("at character %d: expected a value (a \"quoted string\", a number, true, false or null), got %s", at(start), quoteTok(tok))
			}
			state = wantLogic
		case wantLogic:
			switch {
			case lower == "and" || lower == "or":
				state = wantAttr
			case tok == ")" || tok == "]":
				if depth == 0 {
					return fmt.Sprintf("at character %d: %s closes nothing", at(start), quoteTok(tok))
				}
				depth--
			case prev == "]" && strings.HasPrefix(tok, ".") && isAttrPath(tok[1:]):
				state = wantOp // emails[type eq "work"].value eq "x"
			default:
				return fmt.Sprintf("at character %d: expected and, or, a closing parenthesis or the end of the filter, got %s", at(start), quoteTok(tok))
			}
		}
		prev = tok
	}
	switch {
	case state == wantAttr:
		return "the filter ends where an attribute name was expected"
	case state == wantOp:
		return fmt.Sprintf("the filter ends after %s where a comparison operator was expected", quoteTok(prev))
	case state == wantValue:
		return fmt.Sprintf("the filter ends after %s where a value was expected", quoteTok(prev))
	case depth > 0:
		return fmt.Sprintf("the filter ends with %d unclosed \"(\" or \"[\"", depth)
	}
	return "not a valid filter (RFC 7644 §3.4.2.2)"
}

// isAttrPath reports whether s is shaped like an attribute path: an
// optional schema URN, a name and an optional sub-attribute.
func isAttrPath(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isNameChar(c) && c != '.' && c != ':' {
			return false
		}
	}
	return true
}

// isNumber reports whether s is a JSON number (RFC 8259 §6):
// -?int(.digits)?([eE][+-]?digits)?.
func isNumber(s string) bool {
	i := 0
	digits := func() bool {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if !digits() {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

// quoteTok quotes a token for a detail, shortened to 40 bytes.
func quoteTok(t string) string {
	if len(t) > 40 {
		t = strings.ToValidUTF8(t[:40], "") + "…"
	}
	return fmt.Sprintf("%q", t)
}
