package filter

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scimapi/schema"
)

// Pieces of generated filters: valid spellings in several cases and
// spacings, and near misses the fast path must leave to the full parser.
var (
	fastAttrs = []string{
		"userName", "USERNAME", "username", "externalId", "id", "displayName", "active",
		"name.familyName", "Name.FamilyName", "emails", "emails.value", "meta.lastModified",
		"title", "$ref", "x-y_z1", "and", "or", "not", "pr", "eq", "a",
		// not for the fast path, or not valid at all
		"urn:ietf:params:scim:schemas:core:2.0:User:userName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
		"1abc", "a.b.c", "a.", ".a", "$", "_a", "a:b", "emails[type eq \"work\"]", "emails[type eq \"work\"].value",
		"é", "user Name", "",
	}
	fastOps = []string{
		"eq", "Eq", "EQ", "eQ", "ne", "co", "CO", "sw", "ew", "gt", "lt", "ge", "le", "pr", "PR", "Pr",
		"eqq", "e", "xx", "and", "or", "not", "", "e q",
	}
	fastValues = []string{
		`"x"`, `""`, `"bjensen@example.com"`, `"BJENSEN@EXAMPLE.COM"`, `"a\"b"`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`,
		`"\u00E9"`, `"\u00e9"`, `"\u12"`, `"\uZZZZ"`, `"\x"`, `"\`, `"a`, `"tab` + "\t" + `here"`, "\"nul\x00\"",
		`"é漢字"`, "\"\xff\"", "\"\xed\xa0\x80\"", `"]."`, `"a" `, `"and"`, `" and "`, `"a" and "b"`, `"x\""`,
		"\"\x7f\"", `"2011-05-13T04:42:34Z"`, `"not-a-date"`,
		"true", "TRUE", "False", "null", "NuLL", "truex", "nul", "42", "-1.5e3", "0", "1.", `'x'`, "x", "",
	}
	// fastGoodValues are the values above that the fast path takes.
	fastGoodValues = append(append([]string{}, fastValues[:9]...), "true", "TRUE", "False", "null", "NuLL", `"é漢字"`, `"x\""`)
	fastSeps       = []string{" ", "  ", "\t", "", " \t"}
	fastJoiners    = []string{" and ", "  AND  ", " And ", " aNd ", " or ", " OR ", "and", " and", "and ", " andx ", ") and (", " and not ", "\tand\t"}
)

// genFilters returns n pseudo-random filters (fixed seed) built from the
// pieces above, with wrappers and single-byte mutations.
func genFilters(n int) []string {
	r := rand.New(rand.NewPCG(14, 7))
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	// Mostly well-formed terms, so that the fast path has plenty to accept.
	term := func() string {
		if r.IntN(4) > 0 {
			sp := strings.Repeat(" ", 1+r.IntN(2))
			if op := pick(fastOps[:16]); !strings.EqualFold(op, "pr") {
				return pick(fastAttrs[:21]) + sp + op + sp + pick(fastGoodValues)
			}
			return pick(fastAttrs[:21]) + sp + "pr"
		}
		return pick(fastAttrs) + pick(fastSeps) + pick(fastOps) + pick(fastSeps) + pick(fastValues)
	}
	out := make([]string, 0, n)
	for len(out) < n {
		s := term()
		for k := r.IntN(4); k > 0; k-- {
			if r.IntN(5) > 0 {
				s += pick(fastJoiners[:4]) + term()
			} else {
				s += pick(fastJoiners) + term()
			}
		}
		switch r.IntN(16) {
		case 0:
			s = " " + s
		case 1:
			s += " "
		case 2:
			s = "(" + s + ")"
		case 3:
			s = "not (" + s + ")"
		case 4, 5: // mutate one byte
			if len(s) > 0 {
				i := r.IntN(len(s))
				s = s[:i] + string(` "\()[]aEq.:$u0`[r.IntN(15)]) + s[i+1:]
			}
		case 6: // drop one byte
			if len(s) > 0 {
				i := r.IntN(len(s))
				s = s[:i] + s[i+1:]
			}
		}
		out = append(out, s)
	}
	return out
}

// checkFastEqualsFull fails unless parseFast either declines s or returns
// exactly what the full parser does, and then also compiles to the same
// filter with the same index plan.
func checkFastEqualsFull(t *testing.T, rt *schema.ResourceType, s string) bool {
	t.Helper()
	e, ok := parseFast(s)
	if !ok {
		return false
	}
	full, err := parseFull(s)
	if err != nil {
		t.Fatalf("parseFast accepted %q, the parser refuses it: %v", s, err)
	}
	fast := &Parsed{Expr: e}
	if !reflect.DeepEqual(fast, full) {
		t.Fatalf("parseFast(%q) = %#v, parser = %#v", s, fast.Expr, full.Expr)
	}
	for _, lenient := range []bool{false, true} {
		ff, ferr := fast.compile(rt, lenient)
		pf, perr := full.compile(rt, lenient)
		if !reflect.DeepEqual(ff, pf) || !reflect.DeepEqual(ferr, perr) {
			t.Fatalf("compile(%q, lenient=%v): fast %v %v, parser %v %v", s, lenient, ff, ferr, pf, perr)
		}
		if ff != nil {
			a1, v1, ok1 := ff.IndexCandidates("id", "userName", "externalId")
			a2, v2, ok2 := pf.IndexCandidates("id", "userName", "externalId")
			if a1 != a2 || v1 != v2 || ok1 != ok2 {
				t.Fatalf("index plan of %q differs", s)
			}
		}
	}
	return true
}

// TestParseFastEqualsParser checks the fast path against the full parser
// on generated filters: every filter it accepts must give the parser's
// tree, compiled filter and index plan; the rest fall back.
func TestParseFastEqualsParser(t *testing.T) {
	rt := schema.NewRegistry().Users()
	gen := genFilters(4000)
	accepted := 0
	for _, s := range gen {
		if checkFastEqualsFull(t, rt, s) {
			accepted++
		}
	}
	// The generator is mostly well-formed: a fast path that declined
	// everything would pass the loop above trivially.
	if accepted < len(gen)/4 {
		t.Fatalf("parseFast accepted only %d of %d generated filters", accepted, len(gen))
	}
	t.Logf("parseFast accepted %d of %d generated filters", accepted, len(gen))
}

// TestParseFastShapes pins which shapes take the fast path and which fall
// back (falling back is always correct; these pin the intent).
func TestParseFastShapes(t *testing.T) {
	rt := schema.NewRegistry().Users()
	for _, s := range []string{
		`userName eq "bjensen@example.com"`,
		`USERNAME EQ "x"`,
		`userName  eq  "a\"b\\c\/\u00E9"`,
		`externalId eq "e1" and active eq true`,
		`name.familyName co "O'Malley" AND title pr`,
		`userName eq "a" and emails.value eq "b" and displayName ne null`,
		`title pr`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`,
		`userName eq "é漢字"`,
	} {
		if !checkFastEqualsFull(t, rt, s) {
			t.Errorf("parseFast declined %q", s)
		}
	}
	for _, s := range []string{
		`userName eq "a" or userName eq "b"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`,
		`emails[type eq "work"].value eq "x"`,
		`(userName eq "x")`,
		`not (userName eq "x")`,
		`userName eq 42`,
		`userName eq "\u00e9"`, // the parser wants upper-case hex
		"userName eq \"\xff\"",
		"userName\teq \"x\"",
		` userName eq "x"`,
		`userName eq "x" `,
		`userName eq "x" and`,
		strings.Repeat(`a eq "x" and `, maxFastTerms) + `a eq "x"`,
	} {
		if _, ok := parseFast(s); ok {
			t.Errorf("parseFast accepted %q", s)
		}
	}
}

// FuzzParseFast checks on arbitrary input that the fast path either
// declines or agrees with the full parser.
func FuzzParseFast(f *testing.F) {
	for _, s := range genFilters(200) {
		f.Add(s)
	}
	rt := schema.NewRegistry().Users()
	f.Fuzz(func(t *testing.T, s string) {
		if (Limits{}).Check(s) != nil {
			return
		}
		checkFastEqualsFull(t, rt, s)
	})
}
