package auth_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/tokenstore"
)

// TestIdPJWTRules checks every verification rule through the middleware:
// status, challenge and the logged reason (which never holds the token).
func TestIdPJWTRules(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		f := newFixture(t, r)
		d := newTestIdP(t)
		idpClient(t, f.store, d, "kc", "sa-1")
		logs := &syncBuf{}
		log := slog.New(slog.NewTextHandler(logs, nil))
		e, _ := idpGateway(t, f, newKeys(time.Minute), log, auth.IdPJWTOptions{ClientCacheTTL: time.Second})

		with := func(edit func(map[string]any)) map[string]any {
			c := d.claims("sa-1")
			edit(c)
			return c
		}
		now := time.Now()
		other := newKey(t, "rsa")
		rsaPub, _ := x509.MarshalPKIXPublicKey(mustRaw(t, d, "rsa1"))
		pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPub})
		d.addKey("rsa384", "rsa")

		cases := []struct {
			name   string
			token  string
			status int
			reason string // in the log line for 401s
		}{
			{"RS256", d.sign(jwa.RS256, "rsa1", d.claims("sa-1")), 200, ""},
			{"PS256", d.sign(jwa.PS256, "rsa1", d.claims("sa-1")), 200, ""},
			{"ES256", d.sign(jwa.ES256, "ec1", d.claims("sa-1")), 200, ""},
			{"EdDSA", d.sign(jwa.EdDSA, "ed1", d.claims("sa-1")), 200, ""},
			{"aud array", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["aud"] = []string{"account", "scimgate"} })), 200, ""},
			{"scp array (Okta)", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { delete(c, "scope"); c["scp"] = []string{"scim_v2"} })), 200, ""},
			{"scp string", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { delete(c, "scope"); c["scp"] = "scim_v2:read" })), 200, ""},
			{"expired within leeway", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["exp"] = now.Add(-30 * time.Second).Unix() })), 200, ""},
			{"no scope", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["scope"] = "openid profile" })), 403, ""},
			{"wrong aud", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["aud"] = "account" })), 401, `does not include \"scimgate\"`},
			{"no aud (Keycloak without mapper)", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { delete(c, "aud") })), 401, "no aud claim"},
			{"wrong sub", d.sign(jwa.RS256, "rsa1", d.claims("sa-2")), 401, "not the subject of any client"},
			{"no sub", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { delete(c, "sub") })), 401, "no sub claim"},
			{"expired", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() })), 401, "token expired"},
			{"no exp", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { delete(c, "exp") })), 401, "no exp claim"},
			{"nbf future", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() })), 401, "not valid before"},
			{"iat future", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["iat"] = now.Add(5 * time.Minute).Unix() })), 401, "issued in the future"},
			{"bad signature (other key, same kid)", signWith(t, jwa.RS256, other, "rsa1", d.claims("sa-1")), 401, "bad signature"},
			{"tampered payload", tamper(t, d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["scope"] = "openid" }))), 401, "bad signature"},
			{"unknown kid", signWith(t, jwa.RS256, other, "nope", d.claims("sa-1")), 401, `unknown kid \"nope\"`},
			{"alg none", unsigned(t, d.claims("sa-1")), 401, `alg \"none\" not allowed`},
			{"HS256 with the RSA public key (alg confusion)", signWith(t, jwa.HS256, pubPEM, "rsa1", d.claims("sa-1")), 401, `alg \"HS256\" not allowed`},
			{"RS384 not in the allow-list", d.sign(jwa.RS384, "rsa384", d.claims("sa-1")), 401, `alg \"RS384\" not allowed`},
			{"ES256 header on an RSA key", signWith(t, jwa.ES256, newKey(t, "ec"), "rsa1", d.claims("sa-1")), 401, "fits alg ES256"},
			{"unknown issuer", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["iss"] = "https://other.example" })), 401, "not recognised by any authentication method"},
			// RFC 9864 §2.2: Ed25519 is EdDSA on curve Ed25519, by its fully specified name.
			{"Ed25519 (RFC 9864)", signEd25519(t, d, "ed1", d.claims("sa-1")), 200, ""},
			{"Ed25519 header on an RSA key", signEd25519(t, d, "rsa1", d.claims("sa-1")), 401, "fits alg Ed25519"},
			{"Ed25519 with another key", signEd25519Raw(t, newKey(t, "ed"), "ed1", d.claims("sa-1")), 401, "bad signature (alg Ed25519"},
			{"typ Bearer (Keycloak access token)", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["typ"] = "Bearer" })), 200, ""},
			{"typ ID (Keycloak ID token)", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["typ"] = "ID" })), 401, "an ID token is not an access token"},
			{"nonce (OIDC ID token)", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["nonce"] = "n-0S6_WzA2Mj" })), 401, "nonce claim"},
			{"lifetime over 24h", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["exp"] = now.Add(25 * time.Hour).Unix() })), 401, "exceeds the 24h0m0s limit"},
			{"lifetime over 24h, no iat", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { delete(c, "iat"); c["exp"] = now.Add(25 * time.Hour).Unix() })), 401, "exceeds the 24h0m0s limit"},
			{"lifetime 23h", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["exp"] = now.Add(23 * time.Hour).Unix() })), 200, ""},
			{"iss over 1 KiB", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["iss"] = d.issuer() + "/" + strings.Repeat("i", 1100) })), 401, "-byte limit (iss"},
			{"sub over 1 KiB", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["sub"] = strings.Repeat("s\n", 600) })), 401, "sub of 1200 bytes exceeds the 1024-byte limit"},
			{"kid over 256 bytes", signWith(t, jwa.RS256, other, strings.Repeat("k", 300), d.claims("sa-1")), 401, "kid of 300 bytes exceeds the 256-byte limit"},
			{"token over 16 KiB", d.sign(jwa.RS256, "rsa1", with(func(c map[string]any) { c["pad"] = strings.Repeat("p", 20<<10) })), 401, "-byte limit"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := len(logs.String())
				w := call(e, "GET", tc.token, "192.0.2.7")
				if w.Code != tc.status {
					t.Fatalf("status %d %s, want %d; log: %s", w.Code, w.Body, tc.status, logs.String()[before:])
				}
				line := logs.String()[before:]
				if tc.status == 401 {
					if got := w.Header().Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
						t.Fatalf("WWW-Authenticate %q", got)
					}
					if !strings.Contains(line, tc.reason) {
						t.Fatalf("log lacks reason %q: %s", tc.reason, line)
					}
					if strings.Contains(line, tc.token) || strings.Contains(w.Body.String(), "kid") {
						t.Fatal("token in the log or reason in the response")
					}
				}
				if tc.status == 403 && !strings.Contains(w.Header().Get("WWW-Authenticate"), "insufficient_scope") {
					t.Fatalf("403 without insufficient_scope: %q", w.Header().Get("WWW-Authenticate"))
				}
			})
		}
		// scim_v2:read allows reads, not writes.
		readOnly := d.sign(jwa.ES256, "ec1", with(func(c map[string]any) { c["scope"] = "scim_v2:read" }))
		if w := call(e, "POST", readOnly, "192.0.2.7"); w.Code != 403 {
			t.Fatalf("write with scim_v2:read: %d", w.Code)
		}
	})
}

func mustRaw(t *testing.T, d *testIdP, kid string) any {
	d.mu.Lock()
	k, _ := d.pub.LookupKeyID(kid)
	d.mu.Unlock()
	var raw any
	if err := k.Raw(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// tamper grants the token scim_v2, keeping header and signature.
func tamper(t *testing.T, tok string) string {
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	c["scope"] = "scim_v2"
	raw, _ = json.Marshal(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

// TestIdPJWTSelectsClientBySubject: several clients trust one issuer; each
// token reaches the client of its sub.
func TestIdPJWTSelectsClientBySubject(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		f := newFixture(t, r)
		d := newTestIdP(t)
		idpClient(t, f.store, d, "kc-a", "sa-a")
		idpClient(t, f.store, d, "kc-b", "sa-b")
		e, _ := idpGateway(t, f, newKeys(time.Minute), slog.New(slog.DiscardHandler), auth.IdPJWTOptions{ClientCacheTTL: time.Second})
		for sub, name := range map[string]string{"sa-a": "kc-a", "sa-b": "kc-b"} {
			w := call(e, "GET", d.sign(jwa.RS256, "rsa1", d.claims(sub)), "192.0.2.7")
			if w.Code != 200 || w.Body.String() != name {
				t.Fatalf("sub %s: %d %q, want client %s", sub, w.Code, w.Body, name)
			}
		}
		// A static token still works in the same chain.
		plain, _ := f.token(f.client("static"), nil)
		if w := call(e, "GET", plain, "192.0.2.7"); w.Code != 200 || w.Body.String() != "static" {
			t.Fatalf("static token in the chain: %d %s", w.Code, w.Body)
		}
	})
}

// TestIdPJWTDisableAndDeleteWithin1s: a cached token stops working within
// the client cache TTL after its client is disabled, then deleted.
func TestIdPJWTDisableAndDeleteWithin1s(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		f := newFixture(t, r)
		d := newTestIdP(t)
		c := idpClient(t, f.store, d, "kc", "sa-1")
		a, err := auth.NewIdPJWT(f.store, newKeys(time.Minute), auth.IdPJWTOptions{ClientCacheTTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		tok := d.sign(jwa.RS256, "rsa1", d.claims("sa-1"))
		t0 := time.Now()
		authn := func(at time.Time) error {
			_, err := a.Authenticate(ctx, auth.Request{Token: tok, Now: at})
			return err
		}
		if err := authn(t0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.UpdateClient(ctx, c.ID, func(c tokenstore.Client) (tokenstore.Client, error) {
			c.Enabled = false
			return c, nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := authn(t0.Add(time.Second)); !isRejection(err, "client disabled") {
			t.Fatalf("1s after disable: %v", err)
		}
		if _, err := f.store.UpdateClient(ctx, c.ID, func(c tokenstore.Client) (tokenstore.Client, error) {
			c.Enabled = true
			return c, nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := authn(t0.Add(2 * time.Second)); err != nil {
			t.Fatalf("re-enabled: %v", err)
		}
		if err := f.store.DeleteClient(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		// The last client of the issuer is gone: the token is nobody's.
		if err := authn(t0.Add(3 * time.Second)); err != auth.ErrNotMine {
			t.Fatalf("1s after delete: %v", err)
		}
	})
}

func isRejection(err error, reason string) bool {
	rej, ok := err.(*auth.Rejection)
	return ok && strings.Contains(rej.Reason, reason)
}

// TestIdPJWTForgedKidStorm: many tokens with random kids cost at most one
// JWKS fetch per cooldown.
func TestIdPJWTForgedKidStorm(t *testing.T) {
	f := newFixture(t, redistest.Mini(t))
	d := newTestIdP(t)
	idpClient(t, f.store, d, "kc", "sa-1")
	e, _ := idpGateway(t, f, newKeys(time.Hour), slog.New(slog.DiscardHandler), auth.IdPJWTOptions{ClientCacheTTL: time.Second})
	if w := call(e, "GET", d.sign(jwa.RS256, "rsa1", d.claims("sa-1")), "192.0.2.7"); w.Code != 200 {
		t.Fatalf("valid token: %d", w.Code)
	}
	forger := newKey(t, "rsa")
	for i := range 300 {
		if w := call(e, "GET", signWith(t, jwa.RS256, forger, fmt.Sprintf("kid-%d", i), d.claims("sa-1")), "192.0.2.7"); w.Code != 401 {
			t.Fatalf("forged kid: %d", w.Code)
		}
	}
	if n := d.jwksHits.Load(); n > 2 {
		t.Fatalf("%d JWKS fetches for 300 forged kids within one cooldown, want ≤ 2", n)
	}
}

// TestIdPJWTRotationAndOutage: a key rotated in at the IdP is picked up;
// while the IdP is down, tokens signed with cached keys still pass.
func TestIdPJWTRotationAndOutage(t *testing.T) {
	f := newFixture(t, redistest.Mini(t))
	d := newTestIdP(t)
	idpClient(t, f.store, d, "kc", "sa-1")
	keys := newKeys(50 * time.Millisecond)
	e, _ := idpGateway(t, f, keys, slog.New(slog.DiscardHandler), auth.IdPJWTOptions{ClientCacheTTL: time.Second})
	if w := call(e, "GET", d.sign(jwa.RS256, "rsa1", d.claims("sa-1")), "192.0.2.7"); w.Code != 200 {
		t.Fatalf("before rotation: %d", w.Code)
	}
	time.Sleep(60 * time.Millisecond)
	d.rotate("rsa2", "rsa")
	if w := call(e, "GET", d.sign(jwa.RS256, "rsa2", d.claims("sa-1")), "192.0.2.7"); w.Code != 200 {
		t.Fatalf("after rotation: %d", w.Code)
	}
	d.down.Store(true)
	time.Sleep(60 * time.Millisecond)
	keys.RefreshDue(context.Background()) // not due yet: nothing changes
	if w := call(e, "GET", signWith(t, jwa.RS256, newKey(t, "rsa"), "rsa9", d.claims("sa-1")), "192.0.2.7"); w.Code != 401 {
		t.Fatalf("unknown kid during outage: %d", w.Code)
	}
	// Reported, without the issuer's URL (/readyz is public).
	if err := keys.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "1 issuer(s) unreachable") ||
		strings.Contains(err.Error(), d.issuer()) {
		t.Fatalf("outage not reported: %v", err)
	}
	if w := call(e, "GET", d.sign(jwa.RS256, "rsa2", d.claims("sa-1")), "192.0.2.7"); w.Code != 200 {
		t.Fatalf("cached key during outage: %d", w.Code)
	}
}

// TestIdPDownWithoutKeysGives503: no key ever fetched is not the client's
// fault.
func TestIdPDownWithoutKeysGives503(t *testing.T) {
	f := newFixture(t, redistest.Mini(t))
	d := newTestIdP(t)
	idpClient(t, f.store, d, "kc", "sa-1")
	d.down.Store(true)
	e, _ := idpGateway(t, f, newKeys(time.Minute), slog.New(slog.DiscardHandler), auth.IdPJWTOptions{ClientCacheTTL: time.Second})
	if w := call(e, "GET", d.sign(jwa.RS256, "rsa1", d.claims("sa-1")), "192.0.2.7"); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("IdP down, no keys: %d", w.Code)
	}
}

// TestIdPJWTTokenCache: a verified token skips verification until the
// earlier of exp and the cache bound, and is still refused after exp.
func TestIdPJWTTokenCache(t *testing.T) {
	f := newFixture(t, redistest.Mini(t))
	d := newTestIdP(t)
	idpClient(t, f.store, d, "kc", "sa-1")
	keys := &countingKeys{IdPKeys: newKeys(time.Minute)}
	a, err := auth.NewIdPJWT(f.store, keys, auth.IdPJWTOptions{ClientCacheTTL: time.Second, Leeway: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	c := d.claims("sa-1")
	now := time.Now()
	c["exp"] = now.Add(10 * time.Second).Unix()
	tok := d.sign(jwa.ES256, "ec1", c)
	for i := range 5 {
		p, err := a.Authenticate(context.Background(), auth.Request{Token: tok, Now: now.Add(time.Duration(i) * time.Second)})
		if err != nil || p.ClientName != "kc" || p.CredentialID != c["jti"] {
			t.Fatalf("request %d: %v %+v", i, err, p)
		}
	}
	if keys.n != 1 {
		t.Fatalf("%d key look-ups for one token, want 1", keys.n)
	}
	if _, err := a.Authenticate(context.Background(), auth.Request{Token: tok, Now: now.Add(11 * time.Second)}); !isRejection(err, "expired") {
		t.Fatalf("after exp: %v", err)
	}
}

type countingKeys struct {
	auth.IdPKeys
	n int
}

func (k *countingKeys) Keys(ctx context.Context, src idpkeysSource, kid string) ([]jwkKey, error) {
	k.n++
	return k.IdPKeys.Keys(ctx, src, kid)
}

func TestNewIdPJWTRefusesHMACAndNone(t *testing.T) {
	for _, alg := range []string{"HS256", "none", "RS1"} {
		if _, err := auth.NewIdPJWT(nil, nil, auth.IdPJWTOptions{Algorithms: []string{alg}}); err == nil {
			t.Fatalf("algorithm %s accepted", alg)
		}
	}
}

// BenchmarkIdPJWTVsStatic: SCIM GET through the middleware with an IdP JWT
// (verified-token and client caches warm) vs a static opst- token (1s cache).
func BenchmarkIdPJWTVsStatic(b *testing.B) {
	f := newFixture(b, redistest.Mini(b))
	d := newTestIdP(b)
	idpClient(b, f.store, d, "kc", "sa-1")
	e, _ := idpGateway(b, f, newKeys(time.Minute), slog.New(slog.DiscardHandler), auth.IdPJWTOptions{ClientCacheTTL: time.Second})
	plain, _ := f.token(f.client("static"), nil)
	jwt := d.sign(jwa.RS256, "rsa1", d.claims("sa-1"))
	run := func(b *testing.B, token string) {
		b.ReportAllocs()
		for b.Loop() {
			if w := call(e, "GET", token, "192.0.2.1"); w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	}
	b.Run("static", func(b *testing.B) { run(b, plain) })
	b.Run("idp_jwt", func(b *testing.B) { run(b, jwt) })
}
