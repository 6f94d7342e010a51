package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/tokenstore"
)

// fixture is a token store on one backend with helpers to issue tokens.
type fixture struct {
	t      testing.TB
	r      *redistest.Redis
	store  tokenstore.Store
	hasher auth.TokenHasher
}

func newFixture(t testing.TB, r *redistest.Redis) *fixture {
	s, err := tokenstore.NewRedis(r.Client, tokenstore.Options{Prefix: r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, r: r, store: s, hasher: auth.NewTokenHasher("test-pepper")}
}

func (f *fixture) client(name string) tokenstore.Client {
	f.t.Helper()
	now := time.Now().UTC()
	c := tokenstore.Client{ID: uuid.NewString(), Name: name, Method: "static_token", Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := f.store.CreateClient(context.Background(), c); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// token issues a token for c; edit may change the record before it is stored.
func (f *fixture) token(c tokenstore.Client, edit func(*tokenstore.Token)) (string, tokenstore.Token) {
	f.t.Helper()
	plain, err := auth.NewStaticToken()
	if err != nil {
		f.t.Fatal(err)
	}
	now := time.Now().UTC()
	tok := tokenstore.Token{ID: uuid.NewString(), ClientID: c.ID, Scopes: []string{auth.ScopeSCIM}, CreatedAt: now, ExpiresAt: now.AddDate(1, 0, 0)}
	if edit != nil {
		edit(&tok)
	}
	if err := f.store.CreateToken(context.Background(), tok, f.hasher.Hash(plain)); err != nil {
		f.t.Fatal(err)
	}
	return plain, tok
}

// gateway is one gin engine with its own authenticator (and cache), and
// a read and a write route behind the middleware and the scope check.
func gateway(f *fixture, log *slog.Logger, ttl time.Duration) *gin.Engine {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	g := e.Group("/scim/v2", auth.Middleware(auth.Chain{auth.NewStaticTokens(f.store, f.hasher, ttl)}, log, nil))
	g.GET("/Users", auth.Require(auth.Operation{Resource: "Users"}), func(c *gin.Context) {
		p, _ := auth.FromContext(c.Request.Context())
		c.String(http.StatusOK, p.ClientName)
	})
	g.POST("/Users", auth.Require(auth.Operation{Resource: "Users", Write: true}), func(c *gin.Context) { c.Status(http.StatusCreated) })
	return e
}

func call(e http.Handler, method, token, remote string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/scim/v2/Users", nil)
	r.RemoteAddr = remote + ":40000"
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

// corrupt changes one character of the random part; CRC32 detects every
// single-character change.
func corrupt(tok string) string {
	c := byte('A')
	if tok[10] == 'A' {
		c = 'B'
	}
	return tok[:10] + string(c) + tok[11:]
}

func redistestURLSet() bool { return os.Getenv(redistest.EnvURL) != "" }

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestStaticTokenHTTPStatuses(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		f := newFixture(t, r)
		logs := &syncBuf{}
		e := gateway(f, slog.New(slog.NewTextHandler(logs, nil)), 0) // no cache: every case hits the store
		acme, off, gone := f.client("acme"), f.client("off"), f.client("gone")

		good, _ := f.token(acme, nil)
		readOnly, _ := f.token(acme, func(t *tokenstore.Token) { t.Scopes = []string{auth.ScopeSCIMRead} })
		apiOnly, _ := f.token(acme, func(t *tokenstore.Token) { t.Scopes = []string{auth.ScopeAPIv3} })
		expired, _ := f.token(acme, func(t *tokenstore.Token) { t.ExpiresAt = time.Now().Add(-time.Second) })
		revoked, revokedRec := f.token(acme, nil)
		fenced, _ := f.token(acme, func(t *tokenstore.Token) { t.AllowIPs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} })
		ofDisabled, _ := f.token(off, nil)
		ofDeleted, _ := f.token(gone, nil)
		unknown, _ := auth.NewStaticToken()
		badSum := corrupt(good)

		ctx := context.Background()
		if _, err := f.store.RevokeToken(ctx, revokedRec.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.UpdateClient(ctx, off.ID, func(c tokenstore.Client) (tokenstore.Client, error) { c.Enabled = false; return c, nil }); err != nil {
			t.Fatal(err)
		}
		if err := f.store.DeleteClient(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}

		cases := []struct {
			name, method, token, ip string
			code                    int
			www, reason             string
		}{
			{"valid read", "GET", good, "192.0.2.1", 200, "", ""},
			{"valid write", "POST", good, "192.0.2.1", 201, "", ""},
			{"read scope reads", "GET", readOnly, "192.0.2.1", 200, "", ""},
			{"read scope cannot write", "POST", readOnly, "192.0.2.1", 403, `error="insufficient_scope", scope="scim_v2:users"`, ""},
			{"api_v3 only", "GET", apiOnly, "192.0.2.1", 403, `error="insufficient_scope", scope="scim_v2:read"`, ""},
			{"expired", "GET", expired, "192.0.2.1", 401, `error="invalid_token"`, "token expired"},
			{"revoked", "GET", revoked, "192.0.2.1", 401, `error="invalid_token"`, "token revoked"},
			{"disabled client", "GET", ofDisabled, "192.0.2.1", 401, `error="invalid_token"`, "client disabled"},
			{"deleted client", "GET", ofDeleted, "192.0.2.1", 401, `error="invalid_token"`, "unknown token"},
			{"unknown", "GET", unknown, "192.0.2.1", 401, `error="invalid_token"`, "unknown token"},
			{"bad checksum", "GET", badSum, "192.0.2.1", 401, `error="invalid_token"`, "checksum"},
			{"malformed", "GET", "opst-short", "192.0.2.1", 401, `error="invalid_token"`, "malformed"},
			{"outside allow-list", "GET", fenced, "192.0.2.1", 401, `error="invalid_token"`, "outside the token's allow-list"},
			{"inside allow-list", "GET", fenced, "10.9.8.7", 200, "", ""},
			{"admin-shaped token", "GET", "opadm-whatever", "192.0.2.1", 401, `error="invalid_token"`, "not recognised"},
			{"no token", "GET", "", "192.0.2.1", 401, `Bearer realm="scimgate"`, ""},
		}
		for _, tc := range cases {
			before := len(logs.String())
			w := call(e, tc.method, tc.token, tc.ip)
			if w.Code != tc.code || !strings.Contains(w.Header().Get("WWW-Authenticate"), tc.www) {
				t.Errorf("%s: %d %q, want %d %q", tc.name, w.Code, w.Header().Get("WWW-Authenticate"), tc.code, tc.www)
			}
			if tc.code == 200 && w.Body.String() != "acme" {
				t.Errorf("%s: principal %q", tc.name, w.Body)
			}
			if got := logs.String()[before:]; tc.reason != "" && !strings.Contains(got, tc.reason) {
				t.Errorf("%s: log lacks reason %q: %s", tc.name, tc.reason, got)
			}
		}
		for _, secret := range []string{good, revoked, fenced, badSum, f.hasher.Hash(good), f.hasher.Hash(revoked)} {
			if strings.Contains(logs.String(), secret) {
				t.Fatalf("a token or hash is in the logs: %s", logs)
			}
		}
	})
}

func TestBadChecksumNeverReachesRedis(t *testing.T) {
	r := redistest.Mini(t)
	f := newFixture(t, r)
	good, _ := f.token(f.client("c"), nil)
	r.Mini.Close() // any store access would now fail with 503
	e := gateway(f, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	if w := call(e, "GET", corrupt(good), "192.0.2.1"); w.Code != 401 {
		t.Fatalf("bad checksum with Redis down: %d, want 401 (decided offline)", w.Code)
	}
}

func TestRedisOutageGives503(t *testing.T) {
	r := redistest.Mini(t)
	f := newFixture(t, r)
	good, _ := f.token(f.client("c"), nil)
	e := gateway(f, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	if w := call(e, "GET", good, "192.0.2.1"); w.Code != 200 {
		t.Fatalf("before outage: %d", w.Code)
	}
	r.Mini.Close()
	w := call(e, "GET", good, "192.0.2.1")
	if w.Code != 503 || w.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("Redis down: %d %q, want 503 without a challenge", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

// TestCacheHonoursTTLAndExpiry drives the authenticator with an injected
// clock: a cached principal survives a revocation for less than the TTL,
// and never outlives the token's expiry.
func TestCacheHonoursTTLAndExpiry(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		f := newFixture(t, r)
		c := f.client("c")
		now := time.Now()
		plain, rec := f.token(c, func(t *tokenstore.Token) { t.ExpiresAt = now.Add(1500 * time.Millisecond) })
		a := auth.NewStaticTokens(f.store, f.hasher, time.Second)
		ip := netip.MustParseAddr("192.0.2.1")
		at := func(d time.Duration) error {
			_, err := a.Authenticate(context.Background(), auth.Request{Token: plain, RemoteIP: ip, Now: now.Add(d)})
			return err
		}
		if err := at(0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.RevokeToken(context.Background(), rec.ID, now); err != nil {
			t.Fatal(err)
		}
		if err := at(900 * time.Millisecond); err != nil {
			t.Fatalf("within the TTL the cache answers: %v", err)
		}
		var rej *auth.Rejection
		if err := at(1000 * time.Millisecond); !errors.As(err, &rej) || !strings.Contains(rej.Reason, "revoked") {
			t.Fatalf("after the TTL the revocation must show: %v", err)
		}

		// Expiry: a fresh token cached at 1.2s expires at 1.5s, before its TTL ends.
		plain2, _ := f.token(c, func(t *tokenstore.Token) { t.ExpiresAt = now.Add(1500 * time.Millisecond) })
		at2 := func(d time.Duration) error {
			_, err := a.Authenticate(context.Background(), auth.Request{Token: plain2, RemoteIP: ip, Now: now.Add(d)})
			return err
		}
		if err := at2(1200 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := at2(1500 * time.Millisecond); !errors.As(err, &rej) || !strings.Contains(rej.Reason, "expired") {
			t.Fatalf("cache outlived the token's expiry: %v", err)
		}
	})
}

// TestRevocationReachesOtherReplicaWithin1s runs two gateway instances
// (separate engines and caches, the production default TTL) on one Redis.
func TestRevocationReachesOtherReplicaWithin1s(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		f := newFixture(t, r)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		ttl := config.Default().Tokens.CacheTTL.Std()
		a, b := gateway(f, log, ttl), gateway(f, log, ttl)
		plain, rec := f.token(f.client("c"), nil)
		for _, e := range []*gin.Engine{a, b} {
			if w := call(e, "GET", plain, "192.0.2.1"); w.Code != 200 {
				t.Fatalf("before revocation: %d", w.Code)
			}
		}
		// Revoke "through instance a": the store a's admin API would call.
		revoked := time.Now()
		if _, err := f.store.RevokeToken(context.Background(), rec.ID, revoked); err != nil {
			t.Fatal(err)
		}
		for call(b, "GET", plain, "192.0.2.1").Code != 401 {
			if time.Since(revoked) > time.Second {
				t.Fatalf("instance b still accepts the token %s after revocation", time.Since(revoked))
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("refused by the other instance after %s", time.Since(revoked).Round(time.Millisecond))
		if w := call(a, "GET", plain, "192.0.2.1"); w.Code != 401 {
			t.Fatalf("instance a: %d", w.Code)
		}
	})
}

// BenchmarkStaticTokenAuth measures an authenticated request through the
// middleware and the scope check against the same route with no
// authentication. It uses the real Redis when SCIMGATE_TEST_REDIS_URL is
// set, else miniredis. The cache is off in "nocache" so every request
// pays the Redis round trip.
func BenchmarkStaticTokenAuth(b *testing.B) {
	var r *redistest.Redis
	backend := "miniredis"
	if redistestURLSet() {
		r, backend = redistest.Real(b), "redis"
	} else {
		r = redistest.Mini(b)
	}
	f := newFixture(b, r)
	plain, _ := f.token(f.client("bench"), nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gin.SetMode(gin.TestMode)
	noAuth := gin.New()
	noAuth.GET("/scim/v2/Users", func(c *gin.Context) { c.String(http.StatusOK, "bench") })

	run := func(b *testing.B, e http.Handler, token string) {
		b.ReportAllocs()
		for b.Loop() {
			if w := call(e, "GET", token, "192.0.2.1"); w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	}
	b.Run("off", func(b *testing.B) { run(b, noAuth, "") })
	b.Run(backend+"/nocache", func(b *testing.B) { run(b, gateway(f, log, 0), plain) })
	b.Run(backend+"/cache1s", func(b *testing.B) { run(b, gateway(f, log, time.Second), plain) })
}
