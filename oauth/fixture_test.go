package oauth_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/oauth"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/server"
	"github.com/scimgate/scimgate/tokenstore"
)

// fixture is the gateway's real wiring for one test: the OAuth endpoints
// at the root and the real SCIM handler behind auth.Middleware with the
// static-token and client-credentials authenticators.
type fixture struct {
	t      testing.TB
	r      *redistest.Redis
	store  *tokenstore.Redis
	keys   *oauth.KeyStore
	svc    *adminapi.Service
	authn  *auth.ClientCredentials
	static *auth.StaticTokens
	events *audit.Log
	// failures aggregates AUTH_FAILED into events.
	failures *audit.Failures
	srv      *httptest.Server
	iss      string
	aud      string
	ttl      time.Duration
}

type fixtureOpts struct {
	ttl         time.Duration
	maxFailures int
	alg         string
	// tokenRate is tokens per minute per client (0: unlimited).
	tokenRate int
	// log receives the server's log lines (nil: discarded).
	log io.Writer
}

func newFixture(t testing.TB, r *redistest.Redis, o fixtureOpts) *fixture {
	t.Helper()
	gin.SetMode(gin.TestMode)
	if o.ttl == 0 {
		o.ttl = time.Hour
	}
	if o.maxFailures == 0 {
		o.maxFailures = 10
	}
	if o.alg == "" {
		o.alg = oauth.AlgES256
	}
	if o.log == nil {
		o.log = io.Discard
	}
	log := slog.New(slog.NewTextHandler(o.log, nil))
	st, err := tokenstore.NewRedis(r.Client, tokenstore.Options{Prefix: r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := oauth.NewKeyStore(r.Client, oauth.KeyStoreOptions{Prefix: r.Prefix, Alg: o.alg, Retention: o.ttl + 30*time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	f := &fixture{t: t, r: r, store: st, keys: keys, srv: srv, ttl: o.ttl}
	f.iss = "http://" + srv.Listener.Addr().String()
	f.aud = f.iss + "/scim/v2"
	hasher := auth.NewTokenHasher("")
	f.svc = adminapi.NewService(st, hasher, time.Now)
	f.svc.SetSecretCost(bcrypt.MinCost)
	f.authn, err = auth.NewClientCredentials(auth.ClientCredentialsOptions{
		Issuer: f.iss, Audience: f.aud, Keys: oauth.NewPublicKeys(keys, 0, time.Now), State: st,
		CacheTTL: time.Second, Leeway: 30 * time.Second, MaxLifetime: o.ttl,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.static = auth.NewStaticTokens(st, hasher, time.Second)
	limiter, err := oauth.NewFailureLimiter(r.Client, r.Prefix, o.maxFailures, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f.events = audit.NewLog(r.Client, r.Prefix, 0)
	f.failures = audit.NewFailures(r.Client, r.Prefix, f.events, 0)
	tokenRate, err := oauth.NewTokenRateLimiter(r.Client, r.Prefix, o.tokenRate, false)
	if err != nil {
		t.Fatal(err)
	}
	os, err := oauth.NewServer(oauth.Options{
		Issuer: f.iss, Audience: f.aud, TokenTTL: o.ttl, Clients: st, State: st, Keys: keys,
		Verifier: f.authn, Limiter: limiter, TokenRate: tokenRate, Failures: f.failures, Log: log, Now: time.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	engine := gin.New()
	engine.Use(server.RequestID())
	os.Mount(engine)
	mw := auth.Middleware(auth.Chain{f.static, f.authn}, log, nil)
	h := scimapi.New(schema.NewRegistry(), scimapi.Single(store.NewRedis(r.Client, r.Prefix)), scimapi.Options{})
	h.Register(engine.Group("/scim/v2", mw))
	srv.Config.Handler = engine
	srv.Start()
	t.Cleanup(srv.Close)
	return f
}

// newClient creates a client_credentials client and returns its id and secret.
func (f *fixture) newClient(name string, scopes ...string) (string, string) {
	f.t.Helper()
	c, secret, err := f.svc.CreateClientWithSecret(context.Background(), adminapi.ClientSpec{
		Name: name, Method: string(auth.MethodClientCredentials),
		ClientCredentialsSpec: adminapi.ClientCredentialsSpec{Scopes: scopes},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if !strings.HasPrefix(secret, auth.ClientSecretPrefix) {
		f.t.Fatalf("secret %q lacks the %s prefix", secret, auth.ClientSecretPrefix)
	}
	return c.ID, secret
}

// config is the x/oauth2 client-credentials configuration for a client.
func (f *fixture) config(id, secret string, scopes ...string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: f.iss + oauth.PathToken, Scopes: scopes}
}

// token obtains an access token with x/oauth2.
func (f *fixture) token(id, secret string, scopes ...string) string {
	f.t.Helper()
	tok, err := f.config(id, secret, scopes...).Token(context.Background())
	if err != nil {
		f.t.Fatalf("token: %v", err)
	}
	return tok.AccessToken
}

// get calls GET path with a bearer token and returns the status.
func (f *fixture) get(path, bearer string) *http.Response {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.iss+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// post sends a form to path; basic sets client_secret_basic credentials.
func (f *fixture) post(path string, form url.Values, basic *[2]string, header ...string) (*http.Response, string) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.iss+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != nil {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// eventually polls cond for up to d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if cond() {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantStatus(t testing.TB, what string, got *http.Response, want int) {
	t.Helper()
	if got.StatusCode != want {
		t.Fatalf("%s: status %d, want %d", what, got.StatusCode, want)
	}
}
