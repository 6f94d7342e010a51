package store_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

// indexScanRunes are what the generated values are made of: ASCII letters
// in both cases, the non-ASCII runes the filter's case-insensitive
// comparisons equate with ASCII letters (Kelvin sign, long s, capital I
// with dot above) and others that fold (dotless i, é), glob metacharacters,
// a digit, and NUL (an index entry ends its value with one).
var indexScanRunes = []string{"a", "A", "i", "I", "s", "S", "k", "K", "\u212a", "\u017f", "\u0130", "\u0131", "é", "É",
	"1", "-", "*", "?", "[", "]", `\`, "\x00"}

// indexScanTexts are the literals' characters: ASCII, both cases.
var indexScanTexts = []string{"a", "i", "s", "k", "S", "K", "I", "1", "-", "*", "?", "[", "]", `\`}

func indexScanValue(rnd *rand.Rand) string {
	var b strings.Builder
	for range 1 + rnd.IntN(6) {
		b.WriteString(indexScanRunes[rnd.IntN(len(indexScanRunes))])
	}
	return b.String()
}

// TestScanIndexFindsEveryMatch: for co, sw and ew of every literal of one
// or two characters (and some of three) on each case-folded index, User
// userName (a hash of strings.ToLower values), emails.value, displayName
// and name.familyName (sorted sets of foldKey values) and Group
// displayName (a sorted set of strings.ToLower values), ScanIndex returns
// every resource the filter matches, over values made of the runes that
// fold unevenly (indexScanRunes). It returns a candidate the filter does
// not match only for values that are not plain ASCII (an entry holding İ,
// a case fold the filter does not make, a NUL before the id).
func TestScanIndexFindsEveryMatch(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix)
		if err := st.EnableIndexes(store.OptionalIndexes()...); err != nil {
			t.Fatal(err)
		}
		if err := st.Backfill(ctx, store.TypeUser); err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(7, 14))
		attrsOf := map[string]map[string]any{}
		for len(attrsOf) < 200 {
			a := map[string]any{"userName": indexScanValue(rnd), "displayName": indexScanValue(rnd),
				"name":   map[string]any{"familyName": indexScanValue(rnd)},
				"emails": []any{map[string]any{"value": indexScanValue(rnd)}, map[string]any{"value": indexScanValue(rnd)}}}
			res, err := st.Create(ctx, store.TypeUser, a, nil, nil)
			var taken *store.UniquenessError
			if errors.As(err, &taken) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			attrsOf[res.ID] = a
		}
		for range 60 {
			a := map[string]any{"displayName": indexScanValue(rnd)}
			res, err := st.Create(ctx, store.TypeGroup, a, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			attrsOf[res.ID] = a
		}
		var texts []string
		for _, a := range indexScanTexts {
			texts = append(texts, a)
			for _, b := range indexScanTexts {
				texts = append(texts, a+b)
			}
		}
		for range 60 {
			texts = append(texts, indexScanTexts[rnd.IntN(len(indexScanTexts))]+indexScanTexts[rnd.IntN(len(indexScanTexts))]+indexScanTexts[rnd.IntN(len(indexScanTexts))])
		}
		reg := schema.NewRegistry()
		cases := []struct {
			rt   *schema.ResourceType
			attr string
		}{{reg.Users(), "userName"}, {reg.Users(), "emails.value"}, {reg.Users(), "displayName"},
			{reg.Users(), "name.familyName"}, {reg.Groups(), "displayName"}}
		matches, extra := 0, 0
		for _, c := range cases {
			for _, op := range []string{"co", "sw", "ew"} {
				for _, text := range texts {
					expr := c.attr + " " + op + ` "` + strings.ReplaceAll(text, `\`, `\\`) + `"`
					f, err := filter.Compile(c.rt, expr)
					if err != nil {
						t.Fatalf("%s: %v", expr, err)
					}
					ms := f.TextMatches(st.Indexed(c.rt.Name)...)
					if len(ms) != 1 {
						t.Fatalf("%s: TextMatches %v", expr, ms)
					}
					m := ms[0]
					ids, ok, err := st.ScanIndex(ctx, c.rt.Name, m, 150)
					if err != nil || !ok {
						t.Fatalf("%s: ScanIndex: %v, %v", expr, ok, err)
					}
					if !slices.IsSorted(ids) {
						t.Errorf("%s: ids not in order", expr)
					}
					got := map[string]bool{}
					for _, id := range ids {
						got[id] = true
					}
					for id, a := range attrsOf {
						in := got[id]
						typeOK := (c.rt.Name == store.TypeGroup) == (a["userName"] == nil)
						switch {
						case !typeOK && in:
							t.Errorf("%s: returned %s of the other type", expr, id)
						case !typeOK:
						case f.Match(a) && !in:
							t.Errorf("%s: %q matches, not returned", expr, a)
						case f.Match(a):
							matches++
						case in && plainValues(a, c.attr) && (r.Mini == nil || text != "-"):
							// ASCII folds the same under the filter and the
							// indexes: an entry that matches is a match
							// (miniredis reads the ZRANGEBYLEX bound "[-" as
							// "-", the start: sw "-" gets every entry before)
							t.Errorf("%s: %q returned, does not match", expr, a)
						case in:
							extra++
						}
					}
				}
			}
		}
		t.Logf("%d matches returned, and %d candidates that do not match", matches, extra)
		if matches < 1000 {
			t.Errorf("only %d matches: the values are too unlike the literals to test anything", matches)
		}
	})
}

// TestScanIndexAnswersOnlyFromCompleteIndexes: no answer (ok false) for an
// attribute without a case-folded index, for a disabled optional index,
// nor for one not marked complete, which starts its backfill.
func TestScanIndexAnswersOnlyFromCompleteIndexes(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix)
		co := func(attr string) filter.TextMatch {
			f, err := filter.Compile(schema.NewRegistry().Users(), attr+` co "an"`)
			if err != nil {
				t.Fatal(err)
			}
			ms := f.TextMatches(attr)
			if len(ms) != 1 {
				t.Fatalf("%s: TextMatches %v", attr, ms)
			}
			return ms[0]
		}
		for _, attr := range []string{"externalId", "title", "emails.value"} {
			if _, ok, err := st.ScanIndex(ctx, store.TypeUser, co(attr), 100); ok || err != nil {
				t.Errorf("%s: ScanIndex answered (%v)", attr, err)
			}
		}
		if _, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "ann", "emails": []any{map[string]any{"value": "ann@x"}}}, nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := st.EnableIndexes("emails.value"); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := st.ScanIndex(ctx, store.TypeUser, co("emails.value"), 100); ok || err != nil {
			t.Errorf("ScanIndex answered from an index not backfilled (%v)", err)
		}
		// the refused scan started the backfill
		for range 200 {
			ids, ok, err := st.ScanIndex(ctx, store.TypeUser, co("emails.value"), 100)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				if len(ids) != 1 {
					t.Errorf("after the backfill: %v", ids)
				}
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Error("the backfill did not complete")
	})
}

// plainValues reports whether every value of attr ("attr" or "attr.sub",
// also of a multi-valued attribute) in attrs is ASCII without NUL.
func plainValues(attrs map[string]any, attr string) bool {
	top, sub, _ := strings.Cut(attr, ".")
	var vals []any
	switch v := attrs[top].(type) {
	case string:
		vals = []any{v}
	case map[string]any:
		vals = []any{v[sub]}
	case []any:
		for _, e := range v {
			vals = append(vals, e.(map[string]any)[sub])
		}
	}
	for _, v := range vals {
		s, _ := v.(string)
		for i := 0; i < len(s); i++ {
			if s[i] == 0 || s[i] >= 0x80 {
				return false
			}
		}
	}
	return true
}
