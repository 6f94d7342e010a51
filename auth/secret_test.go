package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestStaticTokenFormat(t *testing.T) {
	a, err := NewStaticToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewStaticToken()
	if a == b || !strings.HasPrefix(a, "opst-") || len(a) != len("opst-")+43+6 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if err := CheckSecret(StaticTokenPrefix, a); err != nil {
		t.Fatalf("fresh token refused: %v", err)
	}
	// Changing any one character of the random part breaks the checksum.
	for i := len("opst-"); i < len(a)-6; i += 7 {
		c := byte('A')
		if a[i] == 'A' {
			c = 'B'
		}
		bad := a[:i] + string(c) + a[i+1:]
		if err := CheckSecret(StaticTokenPrefix, bad); !errors.Is(err, ErrSecretChecksum) {
			t.Fatalf("char %d changed: %v", i, err)
		}
	}
	for _, bad := range []string{"opst-", a[:len(a)-1], a + "0", "opst-" + strings.Repeat("!", 49), "opadm-" + a[5:]} {
		if err := CheckSecret(StaticTokenPrefix, bad); !errors.Is(err, ErrSecretMalformed) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}

func TestTokenHasher(t *testing.T) {
	plain, peppered, other := NewTokenHasher(""), NewTokenHasher("pepper"), NewTokenHasher("other")
	const tok = "opst-x"
	if got := plain.Hash(tok); got != "b11e822fc3ffeb16cb1ca4aced63cde1ca79bca73aada42fc5ae4c33abdc2e8f" || got == peppered.Hash(tok) {
		t.Fatalf("plain %s peppered %s", got, peppered.Hash(tok))
	}
	if peppered.Hash(tok) == other.Hash(tok) || peppered.Hash(tok) != NewTokenHasher("pepper").Hash(tok) {
		t.Fatal("HMAC not keyed by the pepper")
	}
}
