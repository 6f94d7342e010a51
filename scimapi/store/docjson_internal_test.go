package store

import (
	"encoding/json"
	"math"
	"testing"
)

// docJSONCases are documents whose encoding must match json.Marshal.
var docJSONCases = []map[string]any{
	nil,
	{},
	{"userName": "alice", "active": true, "x": nil, "n": 0.0},
	{"s": "<a href=\"x\">&amp;</a>\\ \b\f\n\r\t\x00\x1f\x7f é ü 日本 \u2028\u2029 😀"},
	{"floats": []any{0.0, math.Copysign(0, -1), 1.0, -1.5, 0.1, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 1.5e300, 5e-324, 123456789.0, 1e-10, -2.5e-9, math.MaxFloat64}},
	{"nil slice": []any(nil), "empty": []any{}, "nil map": map[string]any(nil), "nested": map[string]any{"b": 1.0, "a": []any{map[string]any{"z": "y", "<k>": "v"}}}},
	{"b": 1.0, "B": 2.0, "a": 3.0, "ä": 4.0, "": 5.0, "a\u2028": 6.0},
	{"bad utf8": "a\xffb\xe2\x80", "a\xff": "key"},
	{"emails": []any{map[string]any{"value": "a@example.com", "type": "work", "primary": true}}},
}

func TestEncodeDocMatchesMarshal(t *testing.T) {
	for _, doc := range docJSONCases {
		want, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeDoc(doc)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("encodeDoc = %s, json.Marshal = %s", got, want)
		}
		for k, v := range doc {
			if s, ok := v.(string); ok {
				wantS, _ := json.Marshal(s)
				wantK, _ := json.Marshal(k)
				if got := string(AppendJSONString(nil, s)); got != string(wantS) {
					t.Errorf("AppendJSONString = %s, json.Marshal = %s", got, wantS)
				}
				if got := string(AppendJSONString(nil, k)); got != string(wantK) {
					t.Errorf("AppendJSONString = %s, json.Marshal = %s", got, wantK)
				}
			}
		}
		if _, ok := appendJSON(nil, doc); !ok {
			t.Errorf("appendJSON fell back on %s", want)
		}
	}
}

func TestEncodeDocFallsBack(t *testing.T) {
	for _, doc := range []map[string]any{
		{"int": 1},
		{"number": json.Number("12")},
		{"typed": []string{"x"}},
		{"nested": map[string]any{"in": []any{int64(3)}}},
	} {
		want, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := appendJSON(nil, doc); ok {
			t.Errorf("appendJSON rendered %s itself", want)
		}
		got, err := encodeDoc(doc)
		if err != nil || got != string(want) {
			t.Errorf("encodeDoc = %s, %v; want %s", got, err, want)
		}
	}
	if _, err := encodeDoc(map[string]any{"nan": math.NaN()}); err == nil {
		t.Error("encodeDoc of NaN: no error")
	}
}

func FuzzEncodeDoc(f *testing.F) {
	for _, doc := range docJSONCases {
		b, _ := json.Marshal(doc)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var doc map[string]any
		if json.Unmarshal(in, &doc) != nil {
			return
		}
		want, err := json.Marshal(doc)
		if err != nil {
			return
		}
		got, err := encodeDoc(doc)
		if err != nil || got != string(want) {
			t.Fatalf("encodeDoc = %s, %v; json.Marshal = %s", got, err, want)
		}
	})
}

// TestAppendJSONStringParts checks the parts form against
// AppendJSONString of their concatenation, with parts split at every byte
// of strings holding escapes, multi-byte runes, U+2028 and invalid UTF-8
// (a rune split between parts takes the concatenating path).
func TestAppendJSONStringParts(t *testing.T) {
	for _, s := range []string{
		"", "https://h/scim/v2/Users/1",
		"<a>&\"\\\b\f\n\r\t\x00\x1f é 日本 \u2028\u2029 😀",
		"bad \xff\xfe utf8 \xe6\x97", "\xe6\x97\xa5",
	} {
		want := string(AppendJSONString([]byte("x"), s))
		for i := 0; i <= len(s); i++ {
			for j := i; j <= len(s); j++ {
				if got := string(AppendJSONStringParts([]byte("x"), s[:i], s[i:j], s[j:])); got != want {
					t.Fatalf("parts %q %q %q: %s, want %s", s[:i], s[i:j], s[j:], got, want)
				}
			}
		}
	}
}
