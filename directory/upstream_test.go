package directory

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sealbox"
)

// TestUpstreamToken: with a key the token is stored sealed (not in plain
// text) and opens only with that key; without one it is kept as is.
func TestUpstreamToken(t *testing.T) {
	box, _ := sealbox.New(bytes.Repeat([]byte{7}, sealbox.KeySize))
	var u Upstream
	u.SetToken(box, "tok-123")
	if u.Token != "" || u.SealedToken == "" || strings.Contains(u.SealedToken, "tok-123") || !u.HasToken() {
		t.Fatalf("sealed: %+v", u)
	}
	if tok, err := u.OpenToken(box); err != nil || tok != "tok-123" {
		t.Fatalf("open: %q %v", tok, err)
	}
	if _, err := u.OpenToken(nil); !errors.Is(err, ErrTokenSealed) {
		t.Fatalf("no key: %v", err)
	}
	other, _ := sealbox.New(bytes.Repeat([]byte{8}, sealbox.KeySize))
	if _, err := u.OpenToken(other); !errors.Is(err, ErrTokenSealed) {
		t.Fatalf("other key: %v", err)
	}
	u.SetToken(nil, "plain")
	if tok, err := u.OpenToken(nil); err != nil || tok != "plain" || u.SealedToken != "" {
		t.Fatalf("plain: %+v %v", u, err)
	}
}
