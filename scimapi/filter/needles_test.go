package filter

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/scimgate/scimgate/scimapi/schema"
)

// TestFoldRunesComplete: foldRunes lists exactly the non-ASCII runes that
// the filter's case-insensitive comparisons (strings.EqualFold, and
// strings.ToLower before comparing) equate with an ASCII character.
func TestFoldRunesComplete(t *testing.T) {
	want := map[byte]string{}
	add := func(lc rune, r rune) {
		if lc >= utf8.RuneSelf {
			return
		}
		if prev, ok := want[byte(lc)]; ok && prev != string(r) {
			t.Fatalf("two runes fold to %q: %q and %q; ContainsFold handles one per letter", lc, prev, string(r))
		}
		want[byte(lc)] = string(r)
	}
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		add(unicode.ToLower(r), r) // strings.ToLower, then compare
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			add(unicode.ToLower(f), r) // strings.EqualFold
		}
	}
	if len(want) != len(foldRunes) {
		t.Fatalf("foldRunes = %q, want %q", foldRunes, want)
	}
	for c, s := range want {
		if foldRunes[c] != s {
			t.Fatalf("foldRunes = %q, want %q", foldRunes, want)
		}
	}
}

// TestNeedlesNeverRejectAMatch: over generated documents and filters,
// every document the filter matches passes MayMatch with the filter's
// needles (so a scan that skips on MayMatch returns the same results),
// and the needles do reject documents.
func TestNeedlesNeverRejectAMatch(t *testing.T) {
	rt := schema.NewRegistry().Users()
	rng := rand.New(rand.NewPCG(7, 14))
	words := []string{"smith", "SMITH", "Smith", "ſmith", "kate", "\u212aate", "İris", "iris", `q"t`, "x@example.com",
		"X@Example.COM", "mi", "ith", "o'neil", "ünï", "\u2028", ""}
	pick := func() string { return words[rng.IntN(len(words))] }
	templates := []string{
		`userName eq "%s"`, `name.familyName eq "%s"`, `name.familyName co "%s"`, `emails.value sw "%s"`,
		`emails.value co "%s"`, `emails[type eq "work" and value ew "%s"]`, `title eq "%s" and displayName co "%s"`,
		`externalId eq "%s"`, `externalId co "%s"`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "%s"`,
		`emails co "%s"`, `not (title eq "%s")`, `title eq "%s" or userName co "%s"`, `displayName ne "%s"`,
		`name.givenName pr and name.familyName sw "%s"`, `title gt "%s"`,
	}
	rejected, matched := 0, 0
	for i := range 4000 {
		attrs := map[string]any{
			"userName": pick() + pick(), "title": pick(), "displayName": pick() + " " + pick(), "externalId": pick(),
			"name":                   map[string]any{"familyName": pick(), "givenName": pick()},
			"emails":                 []any{map[string]any{"value": pick() + pick(), "type": "work"}, map[string]any{"value": pick(), "type": "home"}},
			schema.EnterpriseUserURN: map[string]any{"employeeNumber": pick()},
		}
		if i%10 == 0 {
			attrs["title"] = "a<b" // escaped in the document: not judged
		}
		tpl := templates[i%len(templates)]
		args := make([]any, strings.Count(tpl, "%s"))
		for j := range args {
			w := pick()
			if rng.IntN(3) == 0 && len(w) > 2 {
				w = w[1 : len(w)-1] // substrings
			}
			args[j] = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(w)
		}
		f, err := Compile(rt, fmt.Sprintf(tpl, args...))
		if err != nil {
			continue
		}
		doc, _ := json.Marshal(attrs)
		may := MayMatch(string(doc), f.Needles())
		if f.Match(attrs) {
			matched++
			if !may {
				t.Fatalf("filter %s matches %s but MayMatch says no (needles %v)", fmt.Sprintf(tpl, args...), doc, f.Needles())
			}
		} else if !may {
			rejected++
		}
	}
	if matched < 100 || rejected < 200 {
		t.Fatalf("matched %d, rejected undecoded %d: the generator no longer exercises MayMatch", matched, rejected)
	}
}

func TestNeedlesShapes(t *testing.T) {
	rt := schema.NewRegistry().Users()
	for s, want := range map[string]string{
		`name.familyName eq "Smith"`:                    `[{smith true}]`,
		`externalId co "AbC"`:                           `[{AbC false}]`,
		`emails[type eq "work" and value co "x"]`:       `[{work true} {x true}]`,
		`title eq "a" or title eq "b"`:                  `[]`,
		`not (title eq "a")`:                            `[]`,
		`id eq "x" and meta.resourceType eq "User"`:     `[]`,
		`title eq "a<b"`:                                `[]`,
		`title eq "é"`:                                  `[]`,
		`userName sw "ab" and title pr`:                 `[{ab true}]`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`:   `[]`,
		`schemas eq "urn:ietf:params:scim:schemas:x:1"`: `[]`,
	} {
		f, err := Compile(rt, s)
		if err != nil {
			t.Fatal(s, err)
		}
		got := fmt.Sprint(f.Needles())
		if got == "[]" && f.Needles() != nil {
			t.Errorf("%s: non-nil empty needles", s)
		}
		if got != want {
			t.Errorf("Needles(%s) = %s, want %s", s, got, want)
		}
	}
}
