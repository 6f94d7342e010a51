package filter

import (
	"strings"
	"testing"

	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// wantLimit asserts err is 400 invalidFilter whose detail contains want.
func wantLimit(t testing.TB, err error, want string) {
	t.Helper()
	se, ok := scimerr.As(err)
	if !ok || se.Status != 400 || se.ScimType != scimerr.InvalidFilter || !strings.Contains(se.Detail, want) {
		t.Fatalf("want 400 invalidFilter %q, got %v", want, err)
	}
}

// joined returns n comparisons joined by op.
func joined(n int, op string) string {
	return strings.TrimSuffix(strings.Repeat(`userName eq "x"`+op, n), op)
}

func TestLimitsAreCheckedBeforeParsing(t *testing.T) {
	users := schema.NewRegistry().Users()
	for _, tt := range []struct {
		name, filter string
		lim          Limits
		want         string // "" = a valid filter within the limits
	}{
		{"depth 32 (default)", strings.Repeat("(", 32) + `userName eq "x"` + strings.Repeat(")", 32), Limits{}, ""},
		{"depth 33", strings.Repeat("(", 33) + `userName eq "x"` + strings.Repeat(")", 33), Limits{}, "filter nesting depth exceeds 32"},
		// 100,000 levels overflowed the goroutine stack in the parser
		// (fatal, not recoverable) before the pre-scan existed.
		{"100,000 parentheses", strings.Repeat("(", 100_000), Limits{MaxLength: 1 << 20}, "filter nesting depth exceeds 32"},
		{"100,000 brackets", "emails" + strings.Repeat("[", 100_000), Limits{MaxLength: 1 << 20}, "filter nesting depth exceeds 32"},
		{"100,000 nots", strings.Repeat("not (", 100_000), Limits{MaxLength: 1 << 20}, "filter nesting depth exceeds 32"},
		{"brackets and parentheses add up", `emails[` + strings.Repeat("(", 2) + `type eq "work"))]`, Limits{MaxDepth: 2}, "filter nesting depth exceeds 2"},
		{"closing does not go below zero", `)))` + strings.Repeat("(", 3), Limits{MaxDepth: 2}, "nesting depth exceeds 2"},
		{"parentheses in strings do not nest", `userName eq "` + strings.Repeat("((", 500) + `"`, Limits{MaxLength: 2000}, ""},
		{"escaped quote keeps the string open", `userName eq "\"((((" or title pr`, Limits{MaxDepth: 1}, ""},
		{"200 terms", `not (` + joined(100, " or ") + `)`, Limits{}, ""}, // 100 comparisons, 99 or, 1 not
		{"201 terms", joined(101, " or "), Limits{}, "filter has more than 200 terms"},
		{"operators in any case", `userName EQ "a" AND title Pr`, Limits{MaxTerms: 2}, "more than 2 terms"},
		{"operators in strings do not count", `userName eq "and or not eq pr"`, Limits{MaxTerms: 1}, ""},
		{"operator next to a parenthesis", `not(userName eq "a")or(title pr)`, Limits{MaxTerms: 3}, "more than 3 terms"},
		{"10,000 terms", joined(10_000, " and "), Limits{MaxLength: 1 << 20}, "filter has more than 200 terms"},
		{"length 8192", `userName eq "` + strings.Repeat("a", 8192-14) + `"`, Limits{}, ""},
		{"length 8193", `userName eq "` + strings.Repeat("a", 8193-14) + `"`, Limits{}, "filter length exceeds 8192 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.lim.Compile(users, tt.filter)
			if tt.want != "" {
				wantLimit(t, err, tt.want)
				return
			}
			if err != nil {
				t.Fatalf("refused within the limits: %v", err)
			}
		})
	}
}

// The package-level functions apply the default limits.
func TestPackageFunctionsApplyDefaultLimits(t *testing.T) {
	users := schema.NewRegistry().Users()
	deep := strings.Repeat("(", 33) + `userName eq "x"` + strings.Repeat(")", 33)
	_, err := Compile(users, deep)
	wantLimit(t, err, "nesting depth exceeds 32")
	_, err = CompileLenient(users, deep)
	wantLimit(t, err, "nesting depth exceeds 32")
	_, err = Parse(deep)
	wantLimit(t, err, "nesting depth exceeds 32")
}

// checkFuzzLimits is FuzzParse's check of the limits: no input panics or
// overflows the stack, every error is a SCIM error, and whatever the input,
// adding nesting or terms beyond the limits in front of it is refused
// before the parser runs. A filter that parses stays within the limits:
// each comparison, and, or and not in the tree comes from one operator
// word of the text, each not and value path from a parenthesis or bracket.
func checkFuzzLimits(t *testing.T, s string) {
	lim := Limits{MaxLength: 4096, MaxDepth: 8, MaxTerms: 16}
	p, err := lim.Parse(s)
	if err != nil {
		if _, ok := scimerr.As(err); !ok {
			t.Fatalf("non-SCIM error %v", err)
		}
	} else {
		if len(s) > lim.MaxLength {
			t.Fatalf("%d bytes accepted", len(s))
		}
		if terms, depth := shape(p.Expr); terms > lim.MaxTerms || depth > lim.MaxDepth {
			t.Fatalf("parsed with %d terms, depth %d: %q", terms, depth, s)
		}
	}
	_, err = lim.Parse(strings.Repeat("(", lim.MaxDepth+1) + s)
	wantLimit(t, err, "exceeds")
	_, err = lim.Parse(strings.Repeat("not ", lim.MaxTerms+1) + s)
	wantLimit(t, err, "filter ")
}

// limitSeeds are FuzzParse inputs that cost the unguarded parser a stack
// overflow or seconds.
func limitSeeds() []string {
	return []string{
		`userName eq "\"((("`, `userName eq "a\\"`, `not(userName eq "a")or(title pr)`,
		strings.Repeat("(", 100_000), strings.Repeat("[", 100_000), "emails" + strings.Repeat("[", 100_000),
		strings.Repeat("(", 5000) + `userName eq "x"` + strings.Repeat(")", 5000),
		strings.Repeat("not (", 20_000), `userName eq "` + strings.Repeat("a", 100_000) + `"`,
		joined(10_000, " and "), joined(10_000, " or "), joined(250, " or "),
	}
}

// shape counts the operators in a parsed filter and the nesting of not
// and value paths (each needs a parenthesis or bracket in the text).
func shape(e fp.Expression) (terms, depth int) {
	switch e := e.(type) {
	case *fp.LogicalExpression:
		lt, ld := shape(e.Left)
		rt, rd := shape(e.Right)
		return lt + rt + 1, max(ld, rd)
	case *fp.NotExpression:
		t, d := shape(e.Expression)
		return t + 1, d + 1
	case *fp.ValuePath:
		t, d := shape(e.ValueFilter)
		return t, d + 1
	case *fp.AttributeExpression:
		return 1, 0
	}
	return 0, 0
}

// Issue 17: a filter that does not parse gets one line a human can act
// on, naming what was expected at which character, without the parser's
// internals (grammar operators, U+FFFD for the end of input).
func TestSyntaxErrorsNameWhatAndWhere(t *testing.T) {
	for filter, want := range map[string]string{
		`userName xx "x"`:                 `invalid filter at character 10: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after "userName", got "xx"`,
		`userName eq bjensen`:             `invalid filter at character 13: expected a value (a "quoted string", a number, true, false or null), got "bjensen"`,
		`userName eq "é" qq`:              `invalid filter at character 17: expected and, or, a closing parenthesis or the end of the filter, got "qq"`,
		`userName eq "x")`:                `invalid filter at character 16: ")" closes nothing`,
		`userName eq "x`:                  `invalid filter at character 13: the string is not closed with "`,
		`title pr and`:                    `invalid filter: the filter ends where an attribute name was expected`,
		`(userName eq "x"`:                `invalid filter: the filter ends with 1 unclosed "(" or "["`,
		`emails[type eq "w"].value`:       `invalid filter: the filter ends after ".value" where a comparison operator was expected`,
		`meta.lastModified gt 2011-05-13`: `invalid filter at character 22: expected a value (a "quoted string", a number, true, false or null), got "2011-05-13"`,
		`userName eq 1.2.3`:               `invalid filter at character 13: expected a value (a "quoted string", a number, true, false or null), got "1.2.3"`,
		`not userName pr`:                 `invalid filter at character 5: expected "(" after not, got "userName"`,
	} {
		_, err := Parse(filter)
		se, ok := scimerr.As(err)
		if !ok || se.ScimType != scimerr.InvalidFilter || se.Detail != want {
			t.Errorf("%s:\n got %v\nwant %s", filter, err, want)
		}
		if ok && (strings.Contains(se.Detail, "parse conflict") || strings.ContainsRune(se.Detail, '\uFFFD')) {
			t.Errorf("%s: parser internals in %q", filter, se.Detail)
		}
	}
}
