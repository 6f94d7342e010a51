package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/idpkeys"
	"github.com/scimgate/scimgate/tokenstore"
)

// testIdP serves OIDC discovery and a JWKS of jwx-generated keys (RSA,
// EC P-256, Ed25519), counting JWKS fetches; it signs tokens.
type testIdP struct {
	t        testing.TB
	srv      *httptest.Server
	jwksHits atomic.Int64
	down     atomic.Bool

	mu   sync.Mutex
	priv map[string]jwk.Key // kid -> private key
	pub  jwk.Set
}

func newTestIdP(t testing.TB) *testIdP {
	d := &testIdP{t: t, priv: map[string]jwk.Key{}, pub: jwk.NewSet()}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": d.srv.URL, "jwks_uri": d.srv.URL + "/certs"})
		case "/certs":
			d.jwksHits.Add(1)
			d.mu.Lock()
			defer d.mu.Unlock()
			_ = json.NewEncoder(w).Encode(d.pub)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(d.srv.Close)
	d.addKey("rsa1", "rsa")
	d.addKey("ec1", "ec")
	d.addKey("ed1", "ed")
	return d
}

func (d *testIdP) issuer() string { return d.srv.URL }

// newKey generates a private key of kind rsa, ec or ed.
func newKey(t testing.TB, kind string) jwk.Key {
	t.Helper()
	var raw any
	var err error
	switch kind {
	case "rsa":
		raw, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ec":
		raw, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ed":
		_, raw, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// addKey publishes a new key under kid.
func (d *testIdP) addKey(kid, kind string) {
	k := newKey(d.t, kind)
	_ = k.Set(jwk.KeyIDKey, kid)
	pub, err := k.PublicKey()
	if err != nil {
		d.t.Fatal(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.priv[kid] = k
	_ = d.pub.AddKey(pub)
}

// rotate replaces every published key by one new key kid.
func (d *testIdP) rotate(kid, kind string) {
	d.mu.Lock()
	d.pub = jwk.NewSet()
	d.mu.Unlock()
	d.addKey(kid, kind)
}

// claims are a valid token's claims for subject sub.
func (d *testIdP) claims(sub string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": d.issuer(), "sub": sub, "aud": "scimgate", "azp": "scim-client",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": uuid.NewString(), "scope": "openid scim_v2 profile",
	}
}

// sign signs claims with the private key kid using alg.
func (d *testIdP) sign(alg jwa.SignatureAlgorithm, kid string, claims map[string]any) string {
	d.mu.Lock()
	k := d.priv[kid]
	d.mu.Unlock()
	return signWith(d.t, alg, k, kid, claims)
}

func signWith(t testing.TB, alg jwa.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	h := jws.NewHeaders()
	_ = h.Set(jws.KeyIDKey, kid)
	_ = h.Set(jws.TypeKey, "JWT")
	tok, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatalf("sign %s: %v", alg, err)
	}
	return string(tok)
}

// signEd25519 signs claims with the private key kid under RFC 9864's
// algorithm name Ed25519, which jwx v2 cannot produce.
func signEd25519(t testing.TB, d *testIdP, kid string, claims map[string]any) string {
	d.mu.Lock()
	k := d.priv[kid]
	d.mu.Unlock()
	return signEd25519Raw(t, k, kid, claims)
}

// signEd25519Raw signs with alg Ed25519 using k (for a non-Ed25519 key,
// with a fresh Ed25519 key: the signature is then simply wrong).
func signEd25519Raw(t testing.TB, k jwk.Key, kid string, claims map[string]any) string {
	t.Helper()
	var priv ed25519.PrivateKey
	if err := k.Raw(&priv); err != nil {
		_, priv, _ = ed25519.GenerateKey(rand.Reader)
	}
	h, _ := json.Marshal(map[string]string{"alg": "Ed25519", "typ": "JWT", "kid": kid})
	p, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(input)))
}

// unsigned builds an alg=none token.
func unsigned(t testing.TB, claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

// idpClient stores an enabled idp_jwt client of d for subject sub.
func idpClient(t testing.TB, s tokenstore.Store, d *testIdP, name, sub string) tokenstore.Client {
	t.Helper()
	now := time.Now().UTC()
	c := tokenstore.Client{ID: uuid.NewString(), Name: name, Method: "idp_jwt", Enabled: true, CreatedAt: now, UpdatedAt: now,
		Issuer: d.issuer(), Subject: sub, Audience: "scimgate"}
	if err := s.CreateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// idpGateway is a gin engine with static tokens and IdP JWTs in one chain
// in front of a SCIM read and write route.
func idpGateway(t testing.TB, f *fixture, keys auth.IdPKeys, log *slog.Logger, o auth.IdPJWTOptions) (*gin.Engine, *auth.IdPJWT) {
	a, err := auth.NewIdPJWT(f.store, keys, o)
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	e := gin.New()
	g := e.Group("/scim/v2", auth.Middleware(auth.Chain{auth.NewStaticTokens(f.store, f.hasher, time.Second), a}, log, nil))
	g.GET("/Users", auth.Require(auth.Operation{Resource: "Users"}), func(c *gin.Context) {
		p, _ := auth.FromContext(c.Request.Context())
		c.String(http.StatusOK, p.ClientName)
	})
	g.POST("/Users", auth.Require(auth.Operation{Resource: "Users", Write: true}), func(c *gin.Context) { c.Status(http.StatusCreated) })
	return e, a
}

func newKeys(cooldown time.Duration) *idpkeys.Cache {
	return idpkeys.New(idpkeys.Options{Cooldown: cooldown, HTTPClient: &http.Client{Timeout: 5 * time.Second}})
}

type (
	idpkeysSource = idpkeys.Source
	jwkKey        = jwk.Key
)
