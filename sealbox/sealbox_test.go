package sealbox

import (
	"bytes"
	"errors"
	"testing"
)

// TestSealOpen: a sealed value opens with the same key and additional
// data only; a nil key gives no Box; a key of the wrong size is refused.
func TestSealOpen(t *testing.T) {
	b, err := New(bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s := b.Seal([]byte("secret"), []byte("ad"))
	if bytes.Contains([]byte(s), []byte("secret")) || s == b.Seal([]byte("secret"), []byte("ad")) {
		t.Fatalf("sealed value not encrypted with a fresh nonce: %s", s)
	}
	if p, err := b.Open(s, []byte("ad")); err != nil || string(p) != "secret" {
		t.Fatalf("open: %q %v", p, err)
	}
	if _, err := b.Open(s, []byte("other")); !errors.Is(err, ErrOpen) {
		t.Fatalf("other additional data: %v", err)
	}
	other, _ := New(bytes.Repeat([]byte{2}, KeySize))
	if _, err := other.Open(s, []byte("ad")); !errors.Is(err, ErrOpen) {
		t.Fatalf("other key: %v", err)
	}
	if _, err := b.Open("!!", []byte("ad")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("malformed: %v", err)
	}
	if b, err := New(nil); b != nil || err != nil {
		t.Fatalf("nil key: %v %v", b, err)
	}
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}
