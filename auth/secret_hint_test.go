package auth

import "testing"

func TestSecretHint(t *testing.T) {
	tok, err := NewStaticToken()
	if err != nil {
		t.Fatal(err)
	}
	h := SecretHint(tok)
	if h != "opst-…"+tok[len(tok)-4:] {
		t.Fatalf("hint %q of %q", h, tok)
	}
	// The four shown characters lie in the checksum, not the random body.
	if checksumLen < 4 {
		t.Fatalf("checksum of %d characters: the hint would show random characters", checksumLen)
	}
	for _, bad := range []string{"", "nodash", "opst-short"} {
		if SecretHint(bad) != "" {
			t.Errorf("hint of %q = %q, want none", bad, SecretHint(bad))
		}
	}
}
