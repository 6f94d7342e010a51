package schema

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ParseDateTime parses an RFC 3339 dateTime (RFC 7643 §2.3.5).
func ParseDateTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// CompareValues orders two values of attribute a: strings respect
// caseExact, dateTimes compare chronologically, numbers numerically,
// booleans false < true. ok is false when the values are not comparable
// (different JSON types, unparsable dateTime, complex values).
func CompareValues(a *Attribute, x, y any) (c int, ok bool) {
	switch xv := x.(type) {
	case string:
		yv, isStr := y.(string)
		if !isStr {
			return 0, false
		}
		if a != nil && a.Type == TypeDateTime {
			tx, err1 := ParseDateTime(xv)
			ty, err2 := ParseDateTime(yv)
			if err1 != nil || err2 != nil {
				return 0, false
			}
			return tx.Compare(ty), true
		}
		if a != nil && a.CaseExact {
			return strings.Compare(xv, yv), true
		}
		return CompareFold(xv, yv), true
	case bool:
		yv, isBool := y.(bool)
		if !isBool {
			return 0, false
		}
		switch {
		case xv == yv:
			return 0, true
		case !xv:
			return -1, true
		}
		return 1, true
	}
	if fx, okx := ToFloat(x); okx {
		if fy, oky := ToFloat(y); oky {
			switch {
			case fx < fy:
				return -1, true
			case fx > fy:
				return 1, true
			}
			return 0, true
		}
	}
	return 0, false
}

// CompareFold compares two strings case-insensitively (simple lower-case
// folding) without allocating.
func CompareFold(a, b string) int {
	for a != "" && b != "" {
		var ra, rb rune
		if a[0] < utf8.RuneSelf {
			ra, a = rune(a[0]), a[1:]
		} else {
			var n int
			ra, n = utf8.DecodeRuneInString(a)
			a = a[n:]
		}
		if b[0] < utf8.RuneSelf {
			rb, b = rune(b[0]), b[1:]
		} else {
			var n int
			rb, n = utf8.DecodeRuneInString(b)
			b = b[n:]
		}
		if ra == rb {
			continue
		}
		la, lb := unicode.ToLower(ra), unicode.ToLower(rb)
		if la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}
