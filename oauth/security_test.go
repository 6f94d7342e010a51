package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/auth"
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

// TestClientIDAloneCannotLockOutClient (M2): failures for a client id from
// many addresses do not refuse the client's correct secret from its own
// address; each guessing address is still throttled, and once the per-id
// ceiling is reached an address that already failed gets no second try.
func TestClientIDAloneCannotLockOutClient(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		const max = 3
		f := newFixture(t, r, fixtureOpts{maxFailures: max})
		id, secret := f.newClient("victim")
		form := url.Values{"grant_type": {"client_credentials"}}
		from := func(i int) []string { return []string{"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)} }

		// One address: max failures, then 429 even with the right secret.
		for i := 0; i < max; i++ {
			resp, _ := f.post(oauth.PathToken, form, &[2]string{id, "opcs-guess"}, from(1)...)
			wantStatus(t, "bad secret", resp, http.StatusUnauthorized)
		}
		resp, _ := f.post(oauth.PathToken, form, &[2]string{id, secret}, from(1)...)
		wantStatus(t, "guessing address after max failures", resp, http.StatusTooManyRequests)

		// Many addresses push the client id past its ceiling.
		for i := 2; i < 2+oauth.IDFactor*max; i++ {
			resp, _ := f.post(oauth.PathToken, form, &[2]string{id, "opcs-guess"}, from(i)...)
			wantStatus(t, fmt.Sprintf("bad secret from address %d", i), resp, http.StatusUnauthorized)
		}
		// The real client, from an address without failures, still gets in.
		resp, body := f.post(oauth.PathToken, form, &[2]string{id, secret}, from(250)...)
		wantStatus(t, "right secret after many failures for the id elsewhere: "+body, resp, http.StatusOK)
		resp, _ = f.post(oauth.PathIntrospect, url.Values{"token": {"x"}}, &[2]string{id, secret}, from(250)...)
		wantStatus(t, "introspect from a clean address", resp, http.StatusOK)
		// An address that already failed for this id gets no second guess
		// while the id is over its ceiling.
		resp, _ = f.post(oauth.PathToken, form, &[2]string{id, "opcs-guess2"}, from(2)...)
		wantStatus(t, "second guess from an address over the id ceiling", resp, http.StatusTooManyRequests)
	})
}

// TestScopeNotCheckedBeforeSecret (L1): a known client id with a wrong
// secret and a scope it may not have is invalid_client (401, counted), not
// invalid_scope; with its secret, the scope is refused as invalid_scope.
func TestScopeNotCheckedBeforeSecret(t *testing.T) {
	f := newFixture(t, redistest.Mini(t), fixtureOpts{maxFailures: 2})
	id, secret := f.newClient("scoped")
	for _, bad := range []string{"opcs-guess", "not-even-a-secret"} {
		resp, body := f.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"bogus"}},
			&[2]string{id, bad})
		wantStatus(t, "bogus scope with secret "+bad+": "+body, resp, http.StatusUnauthorized)
		if !strings.Contains(body, `"invalid_client"`) {
			t.Fatalf("bogus scope with a wrong secret: %s", body)
		}
	}
	// Both were counted as failures: the address is now limited for this id.
	resp, _ := f.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"bogus"}}, &[2]string{id, secret})
	wantStatus(t, "after two failures", resp, http.StatusTooManyRequests)

	resp, body := f.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"bogus"}},
		&[2]string{id, secret}, "X-Forwarded-For", "192.0.2.7")
	wantStatus(t, "bogus scope with the right secret: "+body, resp, http.StatusBadRequest)
	if !strings.Contains(body, `"invalid_scope"`) {
		t.Fatalf("bogus scope with the right secret: %s", body)
	}
	resp, body = f.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}}, &[2]string{id, secret},
		"X-Forwarded-For", "192.0.2.7")
	wantStatus(t, "default scope: "+body, resp, http.StatusOK)
}

// TestCraftedClientIDIsInvalidClient (L3): client_id "<uuid>:tokens" names
// another key of the client in Redis; it is an unknown client (401,
// counted as a failure), not a server error.
func TestCraftedClientIDIsInvalidClient(t *testing.T) {
	f := newFixture(t, redistest.Mini(t), fixtureOpts{maxFailures: 3})
	ctx := context.Background()
	c, err := f.svc.CreateClient(ctx, adminapi.ClientSpec{Name: "static"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateToken(ctx, c.ID, adminapi.TokenSpec{Name: "t"}); err != nil {
		t.Fatal(err)
	}
	crafted := c.ID + ":tokens"
	resp, body := f.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}}, &[2]string{crafted, "opcs-guess"})
	wantStatus(t, "token endpoint: "+body, resp, http.StatusUnauthorized)
	resp, body = f.post(oauth.PathIntrospect, url.Values{"token": {"x"}}, &[2]string{crafted, "opcs-guess"})
	wantStatus(t, "introspection: "+body, resp, http.StatusUnauthorized)
	resp, body = f.post(oauth.PathRevoke, url.Values{"token": {"x"}}, &[2]string{crafted, "opcs-guess"})
	wantStatus(t, "revocation: "+body, resp, http.StatusUnauthorized)
	// The three were counted.
	resp, _ = f.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}}, &[2]string{crafted, "opcs-guess"})
	wantStatus(t, "after three failures", resp, http.StatusTooManyRequests)
}

// TestTokenLifetimeBounded (L6): tokens signed with our real key but with
// exp 0 or a lifetime beyond the TTL (+ leeway) are refused.
func TestTokenLifetimeBounded(t *testing.T) {
	f := newFixture(t, redistest.Mini(t), fixtureOpts{ttl: time.Hour})
	id, _ := f.newClient("life")
	key, err := f.keys.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ok := f.claims(id)
	wantStatus(t, "control token", f.get("/scim/v2/Users", sign(t, ok, key.Alg, key.Private, key.ID)), http.StatusOK)

	now := time.Now()
	for name, mod := range map[string]func(c map[string]any){
		"exp 0": func(c map[string]any) { c["exp"] = 0 },
		"iat 0": func(c map[string]any) { c["iat"] = 0 },
		"lifetime 2h": func(c map[string]any) {
			c["iat"] = now.Add(-time.Minute).Unix()
			c["exp"] = now.Add(2 * time.Hour).Unix()
		},
		"lifetime 10 years": func(c map[string]any) { c["exp"] = now.AddDate(10, 0, 0).Unix() },
	} {
		c := f.claims(id)
		mod(c)
		c["jti"] = "life-" + name
		wantStatus(t, name, f.get("/scim/v2/Users", sign(t, c, key.Alg, key.Private, key.ID)), http.StatusUnauthorized)
	}
}

// TestRetiredKeyForgottenWithoutUnknownKid (L6): the in-memory key set is
// reloaded at least every MaxKeySetAge, so a key that is no longer
// published stops verifying even though its kid is known.
func TestRetiredKeyForgottenWithoutUnknownKid(t *testing.T) {
	r := redistest.Mini(t)
	ctx := context.Background()
	ks, err := oauth.NewKeyStore(r.Client, oauth.KeyStoreOptions{Prefix: r.Prefix, Alg: oauth.AlgES256, Retention: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	clk := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clk }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); clk = clk.Add(d) }
	pk := oauth.NewPublicKeys(ks, 0, now)
	old, err := ks.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := pk.VerificationKey(ctx, old.ID); err != nil {
		t.Fatalf("current key: %v", err)
	}
	if _, err := ks.Rotate(ctx, now()); err != nil {
		t.Fatal(err)
	}
	advance(30 * time.Second)
	if _, _, err := pk.VerificationKey(ctx, old.ID); err != nil {
		t.Fatalf("retired key within its retention: %v", err)
	}
	advance(time.Minute + oauth.MaxKeySetAge)
	if _, _, err := pk.VerificationKey(ctx, old.ID); !errors.Is(err, auth.ErrUnknownKey) {
		t.Fatalf("key past its retention still verifies: %v", err)
	}
}
