package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/tokenstore"
)

// scrape returns the text exposition of m.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func wantSeries(t *testing.T, body string, series ...string) {
	t.Helper()
	for _, s := range series {
		if !strings.Contains(body, s) {
			t.Errorf("missing series %s", s)
		}
	}
}

// fakeAuthn admits "good" as client c-1, rejects "bad" as an unknown
// static token and fails on "down" as if the store were unreachable.
type fakeAuthn struct{}

func (fakeAuthn) Authenticate(_ context.Context, r auth.Request) (*auth.Principal, error) {
	switch r.Token {
	case "good":
		return &auth.Principal{ClientID: "c-1", Method: auth.MethodStaticToken, Scopes: []string{"scim_v2"}}, nil
	case "down":
		return nil, errors.New("redis unreachable")
	}
	return nil, auth.Reject(auth.MethodStaticToken, "", "unknown token")
}

func TestHTTPAndAuthSeries(t *testing.T) {
	gin.SetMode(gin.TestMode)
	m := New()
	e := gin.New()
	e.Use(gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, _ any) { c.AbortWithStatus(http.StatusInternalServerError) }))
	e.Use(m.HTTPMiddleware())
	log := slog.New(slog.DiscardHandler)
	g := e.Group("/scim/v2", auth.Middleware(m.Authenticator(fakeAuthn{}), log, nil))
	g.GET("/Users/:id", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	g.GET("/Slow", func(c *gin.Context) { c.AbortWithStatus(http.StatusTooManyRequests) })
	e.POST("/oauth/token", func(c *gin.Context) { c.AbortWithStatus(http.StatusTooManyRequests) })
	e.GET("/panic", func(*gin.Context) { panic("boom") })

	do := func(method, path, token string) int {
		req := httptest.NewRequest(method, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, id := range []string{"a", "b", "c"} { // three raw paths, one route
		if got := do(http.MethodGet, "/scim/v2/Users/"+id, "good"); got != 200 {
			t.Fatalf("GET user: %d", got)
		}
	}
	do(http.MethodGet, "/scim/v2/Users/x", "bad")
	do(http.MethodGet, "/scim/v2/Users/x", "down")
	do(http.MethodGet, "/scim/v2/Slow", "good")
	do(http.MethodPost, "/oauth/token", "")
	do(http.MethodGet, "/nowhere/"+strings.Repeat("z", 10), "")
	do(http.MethodGet, "/panic", "")

	body := scrape(t, m)
	wantSeries(t, body,
		`scimgate_http_requests_total{client="c-1",method="GET",route="/scim/v2/Users/:id",status="200"} 3`,
		`scimgate_http_requests_total{client="",method="GET",route="/scim/v2/Users/:id",status="401"} 1`,
		`scimgate_http_requests_total{client="",method="GET",route="unmatched",status="404"} 1`,
		`scimgate_http_requests_total{client="",method="GET",route="/panic",status="500"} 1`,
		`scimgate_http_request_duration_seconds_count{method="GET",route="/scim/v2/Users/:id"} 5`,
		`scimgate_http_request_duration_seconds_bucket{method="GET",route="/scim/v2/Users/:id",le="+Inf"} 5`,
		`scimgate_ratelimit_rejections_total{limiter="client",route="/scim/v2/Slow"} 1`,
		`scimgate_ratelimit_rejections_total{limiter="unauthenticated",route="/oauth/token"} 1`,
		`scimgate_auth_outcomes_total{mode="static_token",outcome="success",reason=""} 4`,
		`scimgate_auth_outcomes_total{mode="static_token",outcome="rejected",reason="unknown"} 1`,
		`scimgate_auth_outcomes_total{mode="unknown",outcome="error",reason=""} 1`,
		`scimgate_http_requests_total{client="",method="GET",route="/scim/v2/Users/:id",status="503"} 1`,
		`go_goroutines`,
	)
	if strings.Contains(body, `/scim/v2/Users/a"`) || strings.Contains(body, "zzzz") {
		t.Error("a raw path became a label value")
	}
}

func TestClassify(t *testing.T) {
	// The reasons below are the texts auth.Reject is called with.
	cases := map[string]Reason{
		"credential not recognised by any authentication method": ReasonUnrecognised,
		"malformed token":               ReasonMalformed,
		"token checksum mismatch":       ReasonMalformed,
		"unknown token":                 ReasonUnknown,
		"token revoked (token id t1)":   ReasonRevoked,
		"token expired (token id t1)":   ReasonExpired,
		"client disabled (token id t1)": ReasonClient,
		"source address 10.0.0.1 outside the token's allow-list (token id t1)": ReasonAddress,
		`token of issuer https://idp has no sub claim`:                         ReasonClaims,
		`sub "x" is not the subject of any client trusting issuer https://i`:   ReasonUnknown,
		"client method is static_token":                                        ReasonClient,
		`alg "HS256" not allowed`:                                              ReasonSignature,
		`unsupported critical header parameters ["b64"]`:                       ReasonSignature,
		`unknown kid "k9"`:                                                     ReasonSignature,
		`no key with kid "k1" fits alg RS256`:                                  ReasonSignature,
		`bad signature (alg RS256, kid "k1")`:                                  ReasonSignature,
		`iss "https://a" is not the client's issuer`:                           ReasonClaims,
		`aud ["x"] does not include "y"`:                                       ReasonClaims,
		"token expired at 2026-01-01T00:00:00Z":                                ReasonExpired,
		"token not valid before 2026-01-01T00:00:00Z":                          ReasonExpired,
		"token issued in the future (iat 2026-01-01T00:00:00Z)":                ReasonExpired,
		"client no longer uses client_credentials (jti j)":                     ReasonClient,
		"access token revoked (jti j)":                                         ReasonRevoked,
		"client deleted (jti j)":                                               ReasonClient,
		`signature algorithm "none" not allowed`:                               ReasonSignature,
		"token has no kid":                                                     ReasonSignature,
		`unknown signing key "k2"`:                                             ReasonUnknown,
		`invalid access token: "exp" not satisfied`:                            ReasonExpired,
		`invalid access token: "aud" not satisfied`:                            ReasonClaims,
		"invalid access token: failed to parse token":                          ReasonMalformed,
		"client_id claim missing or different from sub":                        ReasonClaims,
		"something new": ReasonOther,
	}
	for reason, want := range cases {
		if got := Classify(reason); got != want {
			t.Errorf("Classify(%q) = %q, want %q", reason, got, want)
		}
	}
}

func TestRedisHook(t *testing.T) {
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { c.Close() })
	m := New()
	c.AddHook(m.RedisHook())
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, "missing").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("get missing: %v", err)
	}
	if err := c.Do(ctx, "nosuchcommand").Err(); err == nil {
		t.Fatal("unknown command succeeded")
	}
	pipe := c.Pipeline()
	pipe.Incr(ctx, "n")
	pipe.LPush(ctx, "k", "x") // WRONGTYPE
	if _, err := pipe.Exec(ctx); err == nil {
		t.Fatal("pipeline with a WRONGTYPE command succeeded")
	}
	body := scrape(t, m)
	wantSeries(t, body,
		`scimgate_redis_command_duration_seconds_count{command="set"} 1`,
		`scimgate_redis_command_duration_seconds_count{command="get"} 1`,
		`scimgate_redis_command_duration_seconds_count{command="pipeline"}`,
		`scimgate_redis_command_errors_total{command="nosuchcommand"} 1`,
		`scimgate_redis_command_errors_total{command="lpush"} 1`,
	)
	if strings.Contains(body, `scimgate_redis_command_errors_total{command="get"}`) {
		t.Error("redis.Nil counted as an error")
	}
	if strings.Contains(body, `scimgate_redis_command_errors_total{command="client"}`) {
		t.Error("a refused connection handshake (miniredis lacks CLIENT SETINFO) counted as an error")
	}
	if strings.Contains(body, `scimgate_redis_command_errors_total{command="incr"}`) {
		t.Error("a successful command inside a failed pipeline counted as an error")
	}
}

func TestCompatRule(t *testing.T) {
	m := New()
	m.CompatRule("op_case")
	m.CompatRule("op_case")
	m.CompatRule("string_boolean")
	wantSeries(t, scrape(t, m),
		`scimgate_scim_compat_rules_applied_total{rule="op_case"} 2`,
		`scimgate_scim_compat_rules_applied_total{rule="string_boolean"} 1`)
}

type fakeTokens struct {
	toks  []tokenstore.Token
	err   error
	calls atomic.Int32
}

func (f *fakeTokens) ListTokens(_ context.Context, clientID string) ([]tokenstore.Token, error) {
	f.calls.Add(1)
	if clientID != "" {
		return nil, errors.New("want every client")
	}
	return f.toks, f.err
}

func TestExpiringCredentials(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	day := 24 * time.Hour
	src := &fakeTokens{toks: []tokenstore.Token{
		{ID: "soon", ExpiresAt: now.Add(3 * day)},
		{ID: "edge", ExpiresAt: now.Add(30*day - time.Minute)},
		{ID: "later", ExpiresAt: now.Add(31 * day)},
		{ID: "expired", ExpiresAt: now.Add(-day)},
		{ID: "revoked", ExpiresAt: now.Add(day), RevokedAt: now.Add(-time.Hour)},
	}}
	m := New()
	if err := m.WatchExpiringCredentials(src, func() time.Time { return clock }, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	wantSeries(t, scrape(t, m), `scimgate_credentials_expiring_soon{kind="static_token"} 2`)

	// Within a minute the count is cached: no second read.
	src.toks = append(src.toks, tokenstore.Token{ID: "new", ExpiresAt: now.Add(day)})
	clock = now.Add(30 * time.Second)
	wantSeries(t, scrape(t, m), `scimgate_credentials_expiring_soon{kind="static_token"} 2`)
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("ListTokens called %d times within the cache minute, want 1", n)
	}
	clock = now.Add(61 * time.Second)
	wantSeries(t, scrape(t, m), `scimgate_credentials_expiring_soon{kind="static_token"} 3`)

	// A failed read keeps the last value and is counted.
	src.err = errors.New("redis down")
	clock = now.Add(3 * time.Minute)
	wantSeries(t, scrape(t, m),
		`scimgate_credentials_expiring_soon{kind="static_token"} 3`,
		`scimgate_credentials_expiry_scrape_errors_total 1`)
}

func TestExpiringCredentialsNeverRead(t *testing.T) {
	m := New()
	src := &fakeTokens{err: errors.New("redis down")}
	if err := m.WatchExpiringCredentials(src, time.Now, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if body := scrape(t, m); strings.Contains(body, "scimgate_credentials_expiring_soon{") {
		t.Error("a gauge was reported although the token list was never read")
	}
}

// TestSeriesConcurrent counts through the remembered children from many
// goroutines at once, first uses racing: every increment reaches the one
// series the registry exposes.
func TestSeriesConcurrent(t *testing.T) {
	m := New()
	const workers, each = 8, 500
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				m.httpRequestsOf.get(httpLabels{route: "/r", method: "GET", status: 200 + (w+i)%2, client: "c"}).Inc()
				m.authSuccessOf.get("static_token").Inc()
			}
		}()
	}
	for range workers {
		<-done
	}
	wantSeries(t, scrape(t, m),
		`scimgate_http_requests_total{client="c",method="GET",route="/r",status="200"} 2000`,
		`scimgate_http_requests_total{client="c",method="GET",route="/r",status="201"} 2000`,
		`scimgate_auth_outcomes_total{mode="static_token",outcome="success",reason=""} 4000`,
	)
}
