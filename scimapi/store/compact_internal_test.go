package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

const (
	coreUserURN   = "urn:ietf:params:scim:schemas:core:2.0:User"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// compactCases are documents around the aliases: strings and keys equal
// to one, containing one, differing from one by case or an escape, and
// raw control bytes (encoded as \u00XX, never raw).
var compactCases = append([]map[string]any{
	{"schemas": []any{coreUserURN, enterpriseURN}, "userName": "a", enterpriseURN: map[string]any{"costCenter": "1"}},
	{"s": "x" + coreUserURN, "t": coreUserURN + " ", "u": "Work", "v": "work", "w": `"work"`, "x": "work\x01!", "\x01": "\x01#"},
	{coreUserURN: coreUserURN, "work": []any{"home", "fax", "$ref", "schemas"}, "schemas\n": "<schemas>"},
	{"a": "\x01", "b": "\x01\x01", "c": "\x01!\x01", "d": "\\", "e": "\"", "f": `\"value\"`},
	{"emails": []any{map[string]any{"value": "value", "type": "type", "primary": false, "display": "display"}}},
}, docJSONCases...)

func checkCompactRoundTrip(t *testing.T, doc string) string {
	t.Helper()
	c := compactDoc(doc)
	back, err := expandDoc(c)
	if err != nil || back != doc {
		t.Fatalf("expandDoc(compactDoc(%q)) = %q, %v", doc, back, err)
	}
	// outside its aliases a compact document is its JSON: no raw control byte
	rest := c
	for i := strings.IndexByte(rest, aliasMark); i >= 0; i = strings.IndexByte(rest, aliasMark) {
		rest = rest[:i] + rest[i+2:]
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] < 0x20 {
			t.Fatalf("compactDoc(%q) = %q: raw byte %#x outside an alias", doc, c, rest[i])
		}
	}
	return c
}

func TestCompactDocRoundTrip(t *testing.T) {
	for _, d := range compactCases {
		doc, err := encodeDoc(d)
		if err != nil {
			t.Fatal(err)
		}
		checkCompactRoundTrip(t, doc)
	}
}

// TestCompactDocAliasesWholeStrings: exactly the JSON strings equal to an
// alias are replaced, keys and values alike.
func TestCompactDocAliasesWholeStrings(t *testing.T) {
	doc, err := encodeDoc(map[string]any{
		"schemas": []any{coreUserURN, "x" + coreUserURN}, "type": "Work", "value": "work",
		enterpriseURN: map[string]any{"manager": map[string]any{"$ref": "../Users/1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := checkCompactRoundTrip(t, doc)
	code := func(a string) string { return string([]byte{aliasMark, aliasCodes[`"`+a+`"`]}) }
	want := "{" + code("schemas") + ":[" + code(coreUserURN) + `,"x` + coreUserURN + `"],` +
		code("type") + `:"Work",` + code(enterpriseURN) + ":{" + code("manager") + ":{" + code("$ref") + `:"../Users/1"}},` +
		code("value") + ":" + code("work") + "}"
	if got != want {
		t.Fatalf("compactDoc = %q, want %q", got, want)
	}
	if plain := `{"userName":"ada"}`; compactDoc(plain) != strings.Replace(plain, `"userName"`, code("userName"), 1) {
		t.Fatalf("compactDoc(%s) = %q", plain, compactDoc(plain))
	}
}

// TestAliasesAppendOnly pins the aliases stored documents refer to by
// position: new ones go at the end (and the hash below covers the old).
func TestAliasesAppendOnly(t *testing.T) {
	const pinned = 51
	sum := sha256.Sum256([]byte(strings.Join(aliases[:pinned], "\n")))
	if got := hex.EncodeToString(sum[:]); got != "6bb61cacb22adac65a8ea5f940f46c4c8f508a41ba18b602d0aed63693882765" {
		t.Fatalf("the first %d aliases changed (sha256 %s): stored documents name them by position", pinned, got)
	}
	if aliasBase+len(aliases) > 0x100 {
		t.Fatal("alias codes past a byte")
	}
	seen := map[string]bool{}
	for _, a := range aliases {
		var s string
		if err := json.Unmarshal([]byte(a), &s); err != nil || string(AppendJSONString(nil, s)) != a || seen[a] {
			t.Fatalf("alias %s is not a distinct JSON string as encodeDoc renders it", a)
		}
		seen[a] = true
	}
}

func TestCompactExpandAllocsAndErrors(t *testing.T) {
	plain := `{"schemas":["` + coreUserURN + `"],"userName":"ada"}`
	if n := testing.AllocsPerRun(100, func() { _, _ = expandDoc(plain) }); n != 0 {
		t.Errorf("expandDoc of a plain document allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = compactDoc(plain) }); n != 1 {
		t.Errorf("compactDoc allocates %v times, want 1", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = compactDoc(`{"a":"b"}`) }); n != 0 {
		t.Errorf("compactDoc of a document without aliases allocates %v times", n)
	}
	c := compactDoc(plain)
	if n := testing.AllocsPerRun(100, func() { _, _ = expandDoc(c) }); n != 1 {
		t.Errorf("expandDoc of a compact document allocates %v times, want 1", n)
	}
	for _, bad := range []string{"{\x01", "{\x01\x7f}", "\x01 ", "\x01\x20", "\x01\xff"} {
		if got, err := expandDoc(bad); err == nil {
			t.Errorf("expandDoc(%q) = %q, want an error", bad, got)
		}
	}
}

func FuzzCompactDoc(f *testing.F) {
	for _, doc := range compactCases {
		b, _ := json.Marshal(doc)
		f.Add(b, coreUserURN)
	}
	f.Add([]byte(`{}`), "\x01!")
	f.Add([]byte(`{"a":"work"}`), `"work"`)
	f.Fuzz(func(t *testing.T, in []byte, s string) {
		docs := []map[string]any{{"k": s, s: []any{s, map[string]any{s: s + s}}}}
		var doc map[string]any
		if json.Unmarshal(in, &doc) == nil {
			docs = append(docs, doc)
		}
		for _, d := range docs {
			enc, err := encodeDoc(d)
			if err != nil {
				continue
			}
			checkCompactRoundTrip(t, enc)
		}
	})
}

// BenchmarkCompactDoc measures compactDoc and expandDoc on a typical Entra
// user's document (the write path's and every read's cost):
//
//	go test -run '^$' -bench CompactDoc -benchmem ./scimapi/store/
func BenchmarkCompactDoc(b *testing.B) {
	doc, err := encodeDoc(map[string]any{
		"schemas":  []any{coreUserURN, enterpriseURN},
		"userName": "user005000@contoso.com", "externalId": "user005000", "active": true,
		"displayName": "Given5000 Family15", "title": "Software Engineer",
		"emails":      []any{map[string]any{"primary": true, "type": "work", "value": "user005000@contoso.com"}},
		"name":        map[string]any{"formatted": "Given5000 Family15", "familyName": "Family15", "givenName": "Given5000"},
		enterpriseURN: map[string]any{"department": "Sales", "employeeNumber": "105000", "costCenter": "CC-42"},
	})
	if err != nil {
		b.Fatal(err)
	}
	c := compactDoc(doc)
	b.Run("compact", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = compactDoc(doc)
		}
	})
	b.Run("expand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = expandDoc(c)
		}
	})
	b.Run("expand-plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = expandDoc(doc)
		}
	})
}
