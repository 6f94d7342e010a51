package store

import (
	"strings"
	"testing"
)

// TestFoldKeyIsEqualFold: foldKey(a) == foldKey(b) exactly when
// strings.EqualFold(a, b), over strings of letters whose case classes have
// more than two members or differ from strings.ToLower (Kelvin sign, long
// s, final sigma, dotted and dotless i, Greek and Cyrillic letters).
func TestFoldKeyIsEqualFold(t *testing.T) {
	letters := []string{"k", "K", "\u212a", "s", "S", "\u017f", "\u03c3", "\u03c2", "\u03a3", "i", "I", "\u0130", "\u0131",
		"\u00e9", "\u00c9", "\u0434", "\u0414", "\u1e9e", "\u00df", "a", "\u2126", "\u03c9", "\ufffd"}
	var words []string
	for _, a := range letters {
		for _, b := range letters {
			words = append(words, a+b)
		}
	}
	for _, a := range words {
		for _, b := range words {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Fatalf("%q vs %q: foldKey equal %v (%q, %q), EqualFold %v", a, b, got, foldKey(a), foldKey(b), want)
			}
		}
	}
	if foldKey("Ada.Lovelace@Example.COM") != "ada.lovelace@example.com" {
		t.Fatalf("ASCII folds as ToLower: %q", foldKey("Ada.Lovelace@Example.COM"))
	}
}
