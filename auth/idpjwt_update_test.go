package auth_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/redistest"
)

// TestIdPClientUpdateTakesEffect: changing an idp_jwt client's subject
// through adminapi.Service (the path of the API, CLI and console) moves
// the (iss, sub) index: a token with the old sub is refused, even one
// verified and cached before the change, and a token with the new sub is
// accepted. Changing jwks_url makes a cached token verify again against
// the new key source.
func TestIdPClientUpdateTakesEffect(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		f := newFixture(t, r)
		d := newTestIdP(t)
		svc := adminapi.NewService(f.store, f.hasher, time.Now)
		c, err := svc.CreateClient(ctx, adminapi.ClientSpec{Name: "kc", Method: "idp_jwt",
			IdPJWTSpec: adminapi.IdPJWTSpec{Issuer: d.issuer(), Subject: "sa-old", Audience: "scimgate"}})
		if err != nil {
			t.Fatal(err)
		}
		// No client cache: the change is visible on the next request.
		e, _ := idpGateway(t, f, newKeys(time.Minute), slog.New(slog.DiscardHandler), auth.IdPJWTOptions{})
		oldTok := d.sign(jwa.RS256, "rsa1", d.claims("sa-old"))
		newTok := d.sign(jwa.RS256, "rsa1", d.claims("sa-new"))
		if w := call(e, "GET", oldTok, "192.0.2.7"); w.Code != 200 || w.Body.String() != "kc" {
			t.Fatalf("old sub before the change: %d %s", w.Code, w.Body)
		}
		if w := call(e, "GET", newTok, "192.0.2.7"); w.Code != 401 {
			t.Fatalf("new sub before the change: %d, want 401", w.Code)
		}

		sub := "sa-new"
		if _, err := svc.UpdateClient(ctx, c.ID, adminapi.ClientPatch{IdPJWTPatch: adminapi.IdPJWTPatch{Subject: &sub}}); err != nil {
			t.Fatal(err)
		}
		if w := call(e, "GET", oldTok, "192.0.2.7"); w.Code != 401 {
			t.Fatalf("old sub (cached token) after the change: %d, want 401", w.Code)
		}
		if w := call(e, "GET", newTok, "192.0.2.7"); w.Code != 200 || w.Body.String() != "kc" {
			t.Fatalf("new sub after the change: %d %s", w.Code, w.Body)
		}

		// Point the client at another IdP's keys: the cached token was
		// signed by a key that set does not hold.
		other := newTestIdP(t)
		jwks := other.issuer() + "/certs"
		if _, err := svc.UpdateClient(ctx, c.ID, adminapi.ClientPatch{IdPJWTPatch: adminapi.IdPJWTPatch{JWKSURL: &jwks}}); err != nil {
			t.Fatal(err)
		}
		if w := call(e, "GET", newTok, "192.0.2.7"); w.Code != 401 {
			t.Fatalf("cached token after a jwks_url change to other keys: %d, want 401", w.Code)
		}
		if w := call(e, "GET", other.sign(jwa.RS256, "rsa1", d.claims("sa-new")), "192.0.2.7"); w.Code != 200 {
			t.Fatalf("token signed by the new key source: %d %s", w.Code, w.Body)
		}
	})
}
