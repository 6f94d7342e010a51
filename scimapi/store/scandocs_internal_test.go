package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/filter"
)

// TestAnchors: a needle is its own anchor, folded when it is folded and
// holds an ASCII letter, with its longest run of non-letters as a literal
// anchor; literal anchors first; the longest literal one decides whether
// Redis judges.
func TestAnchors(t *testing.T) {
	for _, c := range []struct {
		needles []Needle
		want    string
		ok      bool
	}{
		{[]Needle{{Text: "user3562199169@", Fold: true}}, "[{3562199169@ false} {user3562199169@ true}]", true},
		{[]Needle{{Text: "smith", Fold: true}}, "[{smith true}]", false},
		{[]Needle{{Text: "a.b", Fold: true}}, "[{a.b true}]", false},
		{[]Needle{{Text: "x-42-y", Fold: true}, {Text: "Smith"}}, "[{Smith false} {-42- false} {x-42-y true}]", true},
		{[]Needle{{Text: "12-345", Fold: true}}, "[{12-345 false}]", true},
		{[]Needle{{Text: "12cd", Fold: true}, {Text: "abc"}}, "[{abc false} {12 false} {12cd true}]", false},
		{[]Needle{{Text: "ab", Fold: true}, {Text: "abc"}}, "[{abc false} {ab true}]", false},
		{[]Needle{{Text: "a.b.c", Fold: true}}, "[{a.b.c true}]", false},
		{[]Needle{{Text: `"title":"12345"`}, {Text: "x-42-y", Fold: true}}, "[{-42- false} {x-42-y true}]", true},
	} {
		got, ok := anchors(c.needles)
		if fmt.Sprint(got) != c.want || ok != c.ok {
			t.Errorf("anchors(%+v) = %v %v, want %s %v", c.needles, got, ok, c.want, c.ok)
		}
	}
}

// TestScanDocsNeverSkipsAMatch: ScanDocs passes on every document
// filter.MayMatch takes; when it reads every document (no literal anchor),
// exactly those, judged on the stored form (compact or not) without
// expanding it; when it judges in Redis (the needles have an anchor),
// exactly the documents that contain every anchor (a folded one in the
// document with its ASCII letters lower-cased, or any document holding K ſ
// or İ) or an escape MayMatch does not judge. The documents it passes on
// are the stored ones.
// Over generated documents (letters in both cases, digits, punctuation,
// the non-ASCII runes K ſ İ that fold to ASCII letters, texts
// encoding/json escapes, values a compact document aliases, so that a
// needle may be found only inside an alias) and needles cut from them.
func TestScanDocsNeverSkipsAMatch(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := NewRedis(r.Client, r.Prefix)
		rng := rand.New(rand.NewPCG(7, 11))
		parts := []string{"a", "B", "k", "K", "s", "S", "i", "I", "\u212a", "\u017f", "\u0130", "1", "2", "42", "2024", "555-0100", "#9_", "-", ".", "@", "<", "&", "/", "\x01", " ", "é", "\""}
		text := func(n int) string {
			var b strings.Builder
			for range n {
				b.WriteString(parts[rng.IntN(len(parts))])
			}
			return b.String()
		}
		docs := map[string]string{}
		var ids, titles []string
		aliased := []string{"work", "userName", "urn:ietf:params:scim:schemas:core:2.0:User", "x509Certificates", "$ref", "employeeNumber"}
		for i := range 300 {
			title := text(2 + rng.IntN(10))
			if i%4 == 0 {
				title = aliased[rng.IntN(len(aliased))]
			}
			u, err := st.Create(ctx, TypeUser, map[string]any{"userName": fmt.Sprintf("judge%d", i), "title": title, "nickName": text(rng.IntN(5))}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			docs[u.ID] = u.Doc
			ids = append(ids, u.ID)
			titles = append(titles, title)
		}
		judged := 0
		for range 300 {
			var fns []filter.Needle
			var sns []Needle
			for range 1 + rng.IntN(2) {
				src := titles[rng.IntN(len(titles))]
				a := rng.IntN(len(src))
				b := min(len(src), a+3+rng.IntN(8))
				n := filter.Needle{Text: src[a:b], Fold: rng.IntN(2) == 0}
				if n.Fold {
					n.Text = strings.ToLower(n.Text)
				}
				if !plainNeedle(n.Text) {
					continue
				}
				fns = append(fns, n)
				sns = append(sns, n)
			}
			if len(sns) == 0 {
				continue
			}
			got := map[string]string{}
			scanned := 0
			err := st.ScanDocs(ctx, TypeUser, 64, sns, func(n int, rs []*Resource) (bool, error) {
				scanned += n
				for _, res := range rs {
					got[res.ID] = res.Doc
				}
				return true, nil
			})
			if err != nil || scanned != len(ids) {
				t.Fatalf("ScanDocs: %v, %d scanned", err, scanned)
			}
			an, ok := anchors(sns)
			if ok {
				judged++
			}
			for _, id := range ids {
				doc := docs[id]
				if d, took := got[id]; took && d != doc {
					t.Fatalf("ScanDocs passed on %q, stored %q", d, doc)
				}
				_, took := got[id]
				if filter.MayMatch(doc, fns) && !took {
					t.Fatalf("needles %+v: ScanDocs skipped %q, which MayMatch takes", fns, doc)
				}
				if !ok {
					if took != filter.MayMatch(doc, fns) {
						t.Fatalf("needles %+v without an anchor: ScanDocs took %q: %v, MayMatch %v", fns, doc, took, !took)
					}
					continue
				}
				want := strings.Contains(doc, `\u00`) || strings.Contains(doc, `\/`)
				if !want {
					want = true
					for _, a := range an {
						switch {
						case !a.fold:
							want = want && strings.Contains(doc, a.text)
						case !strings.ContainsAny(doc, "\u212a\u017f\u0130"):
							want = want && strings.Contains(asciiLower(doc), a.text)
						}
					}
				}
				if took != want {
					t.Fatalf("needles %+v, anchors %v: ScanDocs took %q: %v, want %v", fns, an, doc, took, want)
				}
			}
		}
		t.Logf("%d needle sets judged in Redis", judged)
		if judged < 40 {
			t.Fatalf("only %d needle sets were judged in Redis", judged)
		}
	})
}

// plainNeedle is filter's rule for a needle text: printable ASCII without
// " \ < > &.
func plainNeedle(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || strings.IndexByte(`"\<>&`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// asciiLower lower-cases the ASCII letters of s and nothing else.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
