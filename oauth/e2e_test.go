package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/oauth"
	"github.com/scimgate/scimgate/redistest"
)

// TestClientCredentialsEndToEnd: a real OAuth2 client library obtains a
// token, lists Users with it, revokes it and is refused within 1s.
func TestClientCredentialsEndToEnd(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		f := newFixture(t, r, fixtureOpts{})
		id, secret := f.newClient("entra")

		tok, err := f.config(id, secret).Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if tok.TokenType != "Bearer" || time.Until(tok.Expiry) < 59*time.Minute {
			t.Fatalf("token type %q, expiry %s", tok.TokenType, tok.Expiry)
		}
		if got := tok.Extra("scope"); got != "scim_v2" {
			t.Fatalf("scope %v, want scim_v2", got)
		}
		// The token is an RFC 9068 JWT.
		msg, err := jws.Parse([]byte(tok.AccessToken))
		if err != nil {
			t.Fatal(err)
		}
		h := msg.Signatures()[0].ProtectedHeaders()
		if h.Type() != "at+jwt" || h.KeyID() == "" || h.Algorithm().String() != "ES256" {
			t.Fatalf("header typ=%q kid=%q alg=%q", h.Type(), h.KeyID(), h.Algorithm())
		}
		claims, err := jwt.ParseInsecure([]byte(tok.AccessToken))
		if err != nil {
			t.Fatal(err)
		}
		cid, _ := claims.Get("client_id")
		sc, _ := claims.Get("scope")
		if claims.Issuer() != f.iss || claims.Subject() != id || cid != id || sc != "scim_v2" ||
			len(claims.Audience()) != 1 || claims.Audience()[0] != f.aud || claims.JwtID() == "" ||
			claims.IssuedAt().IsZero() || claims.Expiration().Sub(claims.IssuedAt()) != time.Hour {
			t.Fatalf("claims: %+v", claims)
		}

		// x/oauth2's HTTP client sends the token on SCIM requests.
		hc := f.config(id, secret).Client(context.Background())
		resp, err := hc.Get(f.iss + "/scim/v2/Users")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		wantStatus(t, "list Users", resp, http.StatusOK)

		// Revoke it (RFC 7009) and see 401 within 1s.
		rr, _ := f.post(oauth.PathRevoke, url.Values{"token": {tok.AccessToken}}, &[2]string{id, secret})
		wantStatus(t, "revoke", rr, http.StatusOK)
		took := eventually(t, 1100*time.Millisecond, "revoked token refused", func() bool {
			return f.get("/scim/v2/Users", tok.AccessToken).StatusCode == http.StatusUnauthorized
		})
		t.Logf("revocation effective after %s", took)
		// A new token works.
		wantStatus(t, "new token", f.get("/scim/v2/Users", f.token(id, secret)), http.StatusOK)
	})
}

func TestTokenEndpointPostAuthAndHeaders(t *testing.T) {
	f := newFixture(t, redistest.Mini(t), fixtureOpts{})
	id, secret := f.newClient("okta", "scim_v2", "scim_v2:read")
	resp, body := f.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"},
		"client_id": {id}, "client_secret": {secret}, "scope": {"scim_v2:read"}}, nil)
	wantStatus(t, "client_secret_post", resp, http.StatusOK)
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("headers %v", resp.Header)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
		Refresh     string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if out.Scope != "scim_v2:read" || out.ExpiresIn != 3600 || out.Refresh != "" || out.TokenType != "Bearer" {
		t.Fatalf("response %s", body)
	}
	// Read-only token: GET allowed, POST forbidden by the one scope check.
	wantStatus(t, "read", f.get("/scim/v2/Users", out.AccessToken), http.StatusOK)
	req, _ := http.NewRequest(http.MethodPost, f.iss+"/scim/v2/Users", strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a"}`))
	req.Header.Set("Authorization", "Bearer "+out.AccessToken)
	req.Header.Set("Content-Type", "application/scim+json")
	wr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wr.Body.Close()
	wantStatus(t, "write with read scope", wr, http.StatusForbidden)
	if !strings.Contains(wr.Header.Get("WWW-Authenticate"), "insufficient_scope") {
		t.Fatalf("challenge %q", wr.Header.Get("WWW-Authenticate"))
	}
}

// TestClientStateRefusedWithin1s: disabling or deleting the client stops
// its tokens on the request path within the 1s cache.
func TestClientStateRefusedWithin1s(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		f := newFixture(t, r, fixtureOpts{})
		ctx := context.Background()
		id, secret := f.newClient("pf")
		tok := f.token(id, secret)
		wantStatus(t, "before", f.get("/scim/v2/Users", tok), http.StatusOK)
		off := false
		if _, err := f.svc.UpdateClient(ctx, id, adminapi.ClientPatch{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 1100*time.Millisecond, "disabled client refused", func() bool {
			return f.get("/scim/v2/Users", tok).StatusCode == http.StatusUnauthorized
		})
		// A disabled client gets no token.
		if _, err := f.config(id, secret).Token(ctx); err == nil {
			t.Fatal("disabled client obtained a token")
		}
		on := true
		if _, err := f.svc.UpdateClient(ctx, id, adminapi.ClientPatch{Enabled: &on}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 1100*time.Millisecond, "re-enabled client accepted", func() bool {
			return f.get("/scim/v2/Users", tok).StatusCode == http.StatusOK
		})
		if _, err := f.svc.DeleteClient(ctx, id); err != nil {
			t.Fatal(err)
		}
		eventually(t, 1100*time.Millisecond, "deleted client refused", func() bool {
			return f.get("/scim/v2/Users", tok).StatusCode == http.StatusUnauthorized
		})
		if _, err := f.config(id, secret).Token(ctx); err == nil {
			t.Fatal("deleted client obtained a token")
		}
	})
}

func TestRotateSecret(t *testing.T) {
	f := newFixture(t, redistest.Mini(t), fixtureOpts{})
	ctx := context.Background()
	id, old := f.newClient("rot")
	tok := f.token(id, old)
	_, fresh, err := f.svc.RotateSecret(ctx, "rot")
	if err != nil {
		t.Fatal(err)
	}
	if fresh == old {
		t.Fatal("same secret after rotation")
	}
	if _, err := f.config(id, old).Token(ctx); err == nil {
		t.Fatal("old secret still works")
	}
	f.token(id, fresh)
	// Tokens issued before stay valid until they expire or are revoked.
	wantStatus(t, "earlier token", f.get("/scim/v2/Users", tok), http.StatusOK)
	// Static clients have no secret to rotate.
	if _, err := f.svc.CreateClient(ctx, adminapi.ClientSpec{Name: "static"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.RotateSecret(ctx, "static"); err == nil {
		t.Fatal("rotated the secret of a static_token client")
	}
}
