package directory

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sealbox"
)

// TestUpstreamClientSecret: the client secret is sealed under its own
// associated data (a sealed token cannot be opened as a secret), and
// ClearCredential drops both kinds of credential.
func TestUpstreamClientSecret(t *testing.T) {
	box, _ := sealbox.New(bytes.Repeat([]byte{7}, sealbox.KeySize))
	u := Upstream{URL: "https://op.example.com", TokenURL: "https://op.example.com/token", ClientID: "gw", Scopes: "scim"}
	u.SetClientSecret(box, "s3cret")
	if u.ClientSecret != "" || strings.Contains(u.SealedClientSecret, "s3cret") || !u.HasClientSecret() || u.AuthMethod() != AuthClientCredentials {
		t.Fatalf("sealed: %+v", u)
	}
	if s, err := u.OpenClientSecret(box); err != nil || s != "s3cret" {
		t.Fatalf("open: %q %v", s, err)
	}
	swapped := Upstream{SealedToken: u.SealedClientSecret}
	if _, err := swapped.OpenToken(box); !errors.Is(err, ErrTokenSealed) {
		t.Fatalf("a sealed secret opened as a token: %v", err)
	}
	u.ClearCredential()
	if u.HasClientSecret() || u.HasToken() || u.TokenURL != "" || u.ClientID != "" || u.Scopes != "" || u.AuthMethod() != AuthBearer {
		t.Fatalf("cleared: %+v", u)
	}
}
