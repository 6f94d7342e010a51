package oauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/scimgate/scimgate/redistest"
)

// claims builds a token body like the token endpoint's, for a client.
func (f *fixture) claims(clientID string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": f.iss, "sub": clientID, "aud": []string{f.aud}, "client_id": clientID, "scope": "scim_v2",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "forged-" + now.Format(time.RFC3339Nano),
	}
}

// sign signs claims with key (a jwk.Key with kid), typ at+jwt.
func sign(t *testing.T, claims map[string]any, alg jwa.SignatureAlgorithm, key any, kid string) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.TypeKey, "at+jwt")
	_ = hdr.Set(jws.KeyIDKey, kid)
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// raw builds a compact JWS from header, claims and a signature function.
func raw(header, claims map[string]any, sig func(input []byte) []byte) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return in + "." + base64.RawURLEncoding.EncodeToString(sig([]byte(in)))
}

// TestForgedAndInvalidTokensRefused: each token below is refused on a
// SCIM request; a correctly signed control token is accepted.
func TestForgedAndInvalidTokensRefused(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		f := newFixture(t, r, fixtureOpts{})
		id, secret := f.newClient("victim")
		f.token(id, secret) // creates the signing key
		cur, err := f.keys.Current(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pub, err := cur.Private.PublicKey()
		if err != nil {
			t.Fatal(err)
		}

		control := sign(t, f.claims(id), cur.Alg, cur.Private, cur.ID)
		wantStatus(t, "control token", f.get("/scim/v2/Users", control), http.StatusOK)

		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		otherJWK, _ := jwk.FromRaw(other)
		var rawPub ecdsa.PublicKey
		if err := pub.Raw(&rawPub); err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKIXPublicKey(&rawPub)
		pubJSON, _ := json.Marshal(pub)

		mod := func(k string, v any) map[string]any {
			c := f.claims(id)
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
			return c
		}
		hs := func(secret []byte) func([]byte) []byte {
			return func(in []byte) []byte { m := hmac.New(sha256.New, secret); m.Write(in); return m.Sum(nil) }
		}
		hsHeader := map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": cur.ID}
		cases := map[string]string{
			"unknown key":           sign(t, f.claims(id), jwa.ES256, otherJWK, "unknown-kid"),
			"other key, our kid":    sign(t, f.claims(id), jwa.ES256, otherJWK, cur.ID),
			"alg none":              raw(map[string]any{"alg": "none", "typ": "at+jwt", "kid": cur.ID}, f.claims(id), func([]byte) []byte { return nil }),
			"HS256 with public DER": raw(hsHeader, f.claims(id), hs(der)),
			"HS256 with public JWK": raw(hsHeader, f.claims(id), hs(pubJSON)),
			"expired":               sign(t, mod("exp", time.Now().Add(-2*time.Minute).Unix()), cur.Alg, cur.Private, cur.ID),
			"issued in the future":  sign(t, mod("iat", time.Now().Add(10*time.Minute).Unix()), cur.Alg, cur.Private, cur.ID),
			"wrong aud":             sign(t, mod("aud", []string{"https://elsewhere.example/scim/v2"}), cur.Alg, cur.Private, cur.ID),
			"no aud":                sign(t, mod("aud", nil), cur.Alg, cur.Private, cur.ID),
			"wrong iss":             sign(t, mod("iss", "https://evil.example"), cur.Alg, cur.Private, cur.ID),
			"no jti":                sign(t, mod("jti", nil), cur.Alg, cur.Private, cur.ID),
			"sub differs":           sign(t, mod("sub", "someone-else"), cur.Alg, cur.Private, cur.ID),
			"unknown client":        sign(t, mod("client_id", "nobody"), cur.Alg, cur.Private, cur.ID),
			"tampered payload":      control[:len(control)-60] + "AAAA" + control[len(control)-56:],
		}
		for name, tok := range cases {
			if got := f.get("/scim/v2/Users", tok).StatusCode; got != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", name, got)
			}
		}
		// Missing scope: authenticated, but refused by the one scope check.
		noScope := sign(t, mod("scope", "api_v3"), cur.Alg, cur.Private, cur.ID)
		resp := f.get("/scim/v2/Users", noScope)
		wantStatus(t, "missing scim_v2 scope", resp, http.StatusForbidden)
	})
}
