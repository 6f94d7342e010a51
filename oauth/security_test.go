package oauth_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/scimgate/scimgate/oauth"
	"github.com/scimgate/scimgate/redistest"
)

// TestRevokeAfterExpiryWithinLeeway (M1): a token past its exp is still
// accepted for the verification leeway (30s here); revoking it then must
// refuse it, not be skipped because exp has passed.
func TestRevokeAfterExpiryWithinLeeway(t *testing.T) {
	f := newFixture(t, redistest.Mini(t), fixtureOpts{ttl: time.Second})
	id, secret := f.newClient("late")
	tok := f.token(id, secret)
	claims, err := jwt.ParseInsecure([]byte(tok))
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the token is past exp (but well within the leeway).
	time.Sleep(time.Until(claims.Expiration().Add(200 * time.Millisecond)))
	// Still accepted: exp + leeway has not passed.
	wantStatus(t, "expired token within the leeway", f.get("/scim/v2/Users", tok), http.StatusOK)

	rr, _ := f.post(oauth.PathRevoke, url.Values{"token": {tok}}, &[2]string{id, secret})
	wantStatus(t, "revoke", rr, http.StatusOK)
	eventually(t, 5*time.Second, "token revoked within the leeway refused", func() bool {
		return f.get("/scim/v2/Users", tok).StatusCode == http.StatusUnauthorized
	})
}
