package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	oauth2 "github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	oserver "github.com/go-oauth2/oauth2/v4/server"

	"github.com/scimgate/scimgate/config"
)

// tokenEndpoint is an in-process go-oauth2 authorization server granting
// client credentials (RFC 6749 §4.4) to one client; valid tells whether a
// bearer token is one it issued with scope "scim".
type tokenEndpoint struct {
	handler http.Handler
	issued  atomic.Int64
	mgr     *manage.Manager
}

func newTokenEndpoint(t *testing.T, clientID, secret string) *tokenEndpoint {
	t.Helper()
	mgr := manage.NewDefaultManager()
	mgr.MapTokenStorage(&memTokens{m: map[string]oauth2.TokenInfo{}})
	mgr.SetClientTokenCfg(&manage.Config{AccessTokenExp: time.Hour})
	mgr.MapClientStorage(oneClient{&models.Client{ID: clientID, Secret: secret}})
	srv := oserver.NewDefaultServer(mgr)
	srv.SetAllowedGrantType(oauth2.ClientCredentials)
	srv.SetClientInfoHandler(oserver.ClientBasicHandler)
	te := &tokenEndpoint{mgr: mgr}
	te.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" {
			http.NotFound(w, r)
			return
		}
		te.issued.Add(1)
		if err := srv.HandleTokenRequest(w, r); err != nil {
			t.Errorf("token endpoint: %v", err)
		}
	})
	return te
}

// oneClient is an oauth2.ClientStore of one client.
type oneClient struct{ c *models.Client }

func (o oneClient) GetByID(_ context.Context, id string) (oauth2.ClientInfo, error) {
	if id != o.c.ID {
		return nil, errors.New("unknown client")
	}
	return o.c, nil
}

// memTokens is an in-memory oauth2.TokenStore of access tokens (the
// library's own memory store needs buntdb, which scimgate does not use).
type memTokens struct {
	mu sync.Mutex
	m  map[string]oauth2.TokenInfo
}

func (s *memTokens) Create(_ context.Context, ti oauth2.TokenInfo) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[ti.GetAccess()] = ti
	return nil
}
func (s *memTokens) RemoveByCode(context.Context, string) error    { return nil }
func (s *memTokens) RemoveByRefresh(context.Context, string) error { return nil }
func (s *memTokens) RemoveByAccess(_ context.Context, a string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, a)
	return nil
}
func (s *memTokens) GetByCode(context.Context, string) (oauth2.TokenInfo, error)    { return nil, nil }
func (s *memTokens) GetByRefresh(context.Context, string) (oauth2.TokenInfo, error) { return nil, nil }
func (s *memTokens) GetByAccess(_ context.Context, a string) (oauth2.TokenInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[a], nil
}

func (te *tokenEndpoint) valid(auth string) bool {
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return false
	}
	ti, err := te.mgr.LoadAccessToken(context.Background(), tok)
	return err == nil && ti.GetScope() == "scim"
}

// TestDirectoryUpstreamClientCredentials: a directory set through the
// admin API to reach its upstream over TLS (trusting a CA bundle given as
// PEM) with OAuth client credentials at the upstream's own token endpoint
// forwards its clients' requests with a token from that endpoint, fetched
// once and cached; the secret is sealed, never returned nor logged;
// removing the CA makes the upstream untrusted (502); a static token and
// client credentials exclude each other.
func TestDirectoryUpstreamClientCredentials(t *testing.T) {
	const secret = "cc-secret-0123456789"
	te := newTokenEndpoint(t, "scimgate-gw", secret)
	peer, seen := startPeerWith(t, true, te.valid, te.handler)
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: peer.Certificate().Raw}))
	caJSON, _ := json.Marshal(ca)

	cfg := config.Default()
	cfg.RateLimit.Rate = 0
	cfg.OAuth.KeyEncryptionKeyB64 = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	base, logs := startGateway(t, cfg)
	m := regexp.MustCompile(`admin API token:\s+(opadm-\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("admin token not printed:\n%s", logs)
	}
	admin := &scimClient{t: t, base: base, token: m[1]}

	upURL := peer.URL + "/scim/v2"
	for _, bad := range []string{
		`{"url":"` + upURL + `","token_url":"` + peer.URL + `/oauth/token","client_id":"x"}`,                                 // no secret
		`{"url":"` + upURL + `","client_id":"x","client_secret":"y"}`,                                                        // no token_url
		`{"url":"` + upURL + `","token":"t","token_url":"` + peer.URL + `/oauth/token","client_id":"x","client_secret":"y"}`, // both
		`{"url":"` + upURL + `","token":"t","ca":"not a certificate"}`,
		`{"url":"` + upURL + `","token_url":"http://auth.example.com/token","client_id":"x","client_secret":"y"}`, // http off loopback
	} {
		if code, b := admin.do("POST", "/admin/api/v1/directories", `{"name":"cc","upstream":`+bad+`}`); code != 400 {
			t.Fatalf("%s: %d %v", bad, code, b)
		}
	}
	code, d := admin.do("POST", "/admin/api/v1/directories", `{"name":"cc","backend":"upstream","upstream":{"url":"`+upURL+
		`","token_url":"`+peer.URL+`/oauth/token","client_id":"scimgate-gw","client_secret":"`+secret+`","scopes":["scim"],"ca":`+string(caJSON)+`}}`)
	if code != 201 {
		t.Fatalf("directory: %d %v", code, d)
	}
	up, _ := d["upstream"].(map[string]any)
	if up["auth"] != "client_credentials" || up["client_id"] != "scimgate-gw" || up["client_secret_set"] != true ||
		up["client_secret_sealed"] != true || up["ca_certificates"] != float64(1) || up["token_set"] != false {
		t.Fatalf("created: %v", up)
	}
	if b := rawGet(t, admin, "/admin/api/v1/directories/cc"); strings.Contains(b, secret) || strings.Contains(b, "BEGIN CERTIFICATE") {
		t.Fatalf("directory shows its secret or CA: %s", b)
	}
	cc := dirClient(t, admin, "cc-idp", "cc")
	code, u := cc.do("POST", "/scim/v2/Users", newUser("ada@cc.example"))
	if code != 201 {
		t.Fatalf("create through client credentials: %d %v", code, u)
	}
	id, _ := u["id"].(string)
	for range 3 {
		if code, g := cc.do("GET", "/scim/v2/Users/"+id, ""); code != 200 || g["userName"] != "ada@cc.example" {
			t.Fatalf("get: %d %v", code, g)
		}
	}
	if n := te.issued.Load(); n != 1 {
		t.Fatalf("token endpoint called %d times for 4 requests; want 1 (the token is cached)", n)
	}
	for _, r := range seen() {
		if !te.valid(r.auth) || strings.Contains(r.auth, cc.token) {
			t.Fatalf("upstream got Authorization %q", r.auth)
		}
	}

	// Without the CA bundle the upstream's certificate is not trusted.
	if code, b := admin.do("PATCH", "/admin/api/v1/directories/cc", `{"upstream":{"ca":""}}`); code != 200 {
		t.Fatalf("drop ca: %d %v", code, b)
	}
	if code, b := cc.do("GET", "/scim/v2/Users/"+id, ""); code != 502 {
		t.Fatalf("untrusted upstream: %d %v", code, b)
	}
	// Switching to a static token drops the client credentials.
	code, d = admin.do("PATCH", "/admin/api/v1/directories/cc", `{"upstream":{"token":"static-tok","ca":`+string(caJSON)+`}}`)
	up, _ = d["upstream"].(map[string]any)
	if code != 200 || up["auth"] != "bearer" || up["client_secret_set"] != false || up["client_id"] != nil || up["token_set"] != true {
		t.Fatalf("to bearer: %d %v", code, d)
	}
	if code, b := cc.do("GET", "/scim/v2/Users/"+id, ""); code != 502 {
		t.Fatalf("upstream refusing the static token: %d %v (want 502)", code, b)
	}
	if last := seen(); last[len(last)-1].auth != "Bearer static-tok" {
		t.Fatalf("static token not presented: %q", last[len(last)-1].auth)
	}
	if strings.Contains(logs.String(), secret) {
		t.Fatal("the client secret reached the logs")
	}
	for _, r := range seen() {
		if tok, _ := strings.CutPrefix(r.auth, "Bearer "); len(tok) > 8 && strings.Contains(logs.String(), tok) {
			t.Fatal("an upstream access token reached the logs")
		}
	}
}
