package auth

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestBurnMatchesVerifyWork (L2): for any secret, the unknown-client path
// (BurnClientSecretCheck) runs bcrypt exactly as often as the known-client
// path (VerifyClientSecret), so timing does not reveal whether a client id
// exists. Counted, not timed.
func TestBurnMatchesVerifyWork(t *testing.T) {
	var calls int
	orig := compareHash
	compareHash = func(h, p []byte) error { calls++; return orig(h, p) }
	t.Cleanup(func() { compareHash = orig })

	good, err := NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	hash, err := HashClientSecret(good, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"", "opcs-guess", "not-a-secret", good[:len(good)-1] + "x", other, good} {
		calls = 0
		_ = VerifyClientSecret(hash, secret)
		verify := calls
		calls = 0
		BurnClientSecretCheck(secret)
		burn := calls
		if verify != burn {
			t.Errorf("secret %q: %d bcrypt comparisons for a known client, %d for an unknown one", secret, verify, burn)
		}
	}
}
