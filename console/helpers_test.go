package console_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/console"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/schema"
	scimstore "github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/server"
	"github.com/scimgate/scimgate/tokenstore"
)

const adminToken = "opadm-console-test-admin-token"

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type pinger struct{ r *redistest.Redis }

func (p pinger) Ping(ctx context.Context, _ time.Duration) error { return p.r.Client.Ping(ctx).Err() }

// env is a gateway with the console, the admin service and a SCIM route
// behind static-token authentication, logging into logs.
type env struct {
	t      *testing.T
	r      *redistest.Redis
	srv    *httptest.Server
	svc    *adminapi.Service
	logs   *syncBuf
	mu     sync.Mutex
	now    time.Time
	client *http.Client
}

const sessionTTL = time.Hour

func newEnv(t *testing.T, publicURL string) *env {
	t.Helper()
	return buildEnv(t, publicURL, nil, nil)
}

// browseFilterMax is the filter length limit of the test SCIM layer.
const browseFilterMax = 300

// newUpstreamEnv is newEnv in gateway mode: the default directory's data
// lives upstream.
func newUpstreamEnv(t *testing.T) *env {
	t.Helper()
	return buildEnvUpstream(t, "", nil, nil, []string{directory.DefaultID})
}

// buildEnv serves the console (with OIDC sign-in when oidc is set) and a
// SCIM route guarded by static tokens, on ln or on a new listener.
func buildEnv(t *testing.T, publicURL string, oidc *console.OIDCOptions, ln net.Listener) *env {
	t.Helper()
	return buildEnvUpstream(t, publicURL, oidc, ln, nil)
}

// buildEnvUpstream is buildEnv with the directories served upstream.
func buildEnvUpstream(t *testing.T, publicURL string, oidc *console.OIDCOptions, ln net.Listener, upstream []string) *env {
	t.Helper()
	r := redistest.Mini(t)
	store, err := tokenstore.NewRedis(r.Client, tokenstore.Options{Prefix: r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	ev := &env{t: t, r: r, logs: &syncBuf{}, now: time.Now().UTC()}
	log := slog.New(slog.NewJSONHandler(ev.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hasher := auth.NewTokenHasher("pepper")
	ev.svc = adminapi.NewService(store, hasher, ev.clock)
	ev.svc.SetSecretCost(4)
	events := audit.NewLog(r.Client, r.Prefix, 0)
	ev.svc.SetAudit(events, log)
	reg, err := directory.NewRegistry(r.Client, r.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	ev.svc.SetDirectories(reg, r.Client, r.Prefix, nil)
	cred, err := adminapi.NewCredential(adminToken, "")
	if err != nil {
		t.Fatal(err)
	}
	// The Users and Groups browser reads through the SCIM layer, with a
	// filter length limit small enough for a test to exceed.
	backends := directory.NewBackends(reg, func(d directory.Directory) scimstore.Store {
		return scimstore.NewRedisTagged(r.Client, r.Prefix, directory.Tag(d.ID))
	}, 0)
	resources := scimapi.New(schema.NewRegistry(), backends, scimapi.Options{
		Limits: scimapi.Limits{Filter: filter.Limits{MaxLength: browseFilterMax}}})
	con, err := console.New(console.Options{Service: ev.svc, Credential: cred, Audit: events,
		Redis: r.Client, RedisPrefix: r.Prefix, SessionTTL: sessionTTL, PublicURL: publicURL, Log: log, Now: ev.clock,
		OIDC: oidc, Resources: resources, Upstream: upstream})
	if err != nil {
		t.Fatal(err)
	}
	e := server.New(server.Options{Log: log, Redis: pinger{r}, ReadyTimeout: time.Second})
	con.Mount(e.Group(console.Prefix))
	g := e.Group("/scim/v2", auth.Middleware(auth.Chain{auth.NewStaticTokens(store, hasher, 0)}, log, nil))
	g.GET("/Users", auth.Require(auth.Operation{Resource: "Users"}), func(c *gin.Context) { c.String(200, "users") })
	ev.srv = httptest.NewUnstartedServer(e)
	if ln != nil {
		ev.srv.Listener.Close()
		ev.srv.Listener = ln
	}
	ev.srv.Start()
	t.Cleanup(ev.srv.Close)
	ev.client = newBrowser(t)
	return ev
}

func (ev *env) clock() time.Time { ev.mu.Lock(); defer ev.mu.Unlock(); return ev.now }

// advance moves the console's clock and miniredis's TTLs forward.
func (ev *env) advance(d time.Duration) {
	ev.mu.Lock()
	ev.now = ev.now.Add(d)
	ev.mu.Unlock()
	ev.r.Mini.FastForward(d)
}

// newBrowser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see them.
func newBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (ev *env) get(path string) page {
	ev.t.Helper()
	return ev.do(http.MethodGet, path, nil, nil)
}

// post sends a form as a same-origin browser would (Origin and
// Sec-Fetch-Site set), plus extra headers.
func (ev *env) post(path string, form url.Values, hdr map[string]string) page {
	ev.t.Helper()
	h := map[string]string{"Origin": ev.srv.URL, "Sec-Fetch-Site": "same-origin"}
	for k, v := range hdr {
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	return ev.do(http.MethodPost, path, form, h)
}

func (ev *env) do(method, path string, form url.Values, hdr map[string]string) page {
	ev.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, ev.srv.URL+path, body)
	if err != nil {
		ev.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := ev.client.Do(req)
	if err != nil {
		ev.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the first form on p.
func (ev *env) csrf(p page) string {
	ev.t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		ev.t.Fatalf("no csrf field on page (status %d): %.500s", p.status, p.body)
	}
	return m[1]
}

// signIn signs in and returns the session's CSRF token.
func (ev *env) signIn() string {
	ev.t.Helper()
	lp := ev.get("/admin/login")
	p := ev.post("/admin/login", url.Values{"csrf": {ev.csrf(lp)}, "token": {adminToken}}, nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/clients" {
		ev.t.Fatalf("sign-in: %d %s %.300s", p.status, p.header.Get("Location"), p.body)
	}
	return ev.csrf(ev.get("/admin/clients"))
}

func (ev *env) expect(p page, status int, contains ...string) {
	ev.t.Helper()
	if p.status != status {
		ev.t.Fatalf("status %d, want %d: %.800s", p.status, status, p.body)
	}
	for _, s := range contains {
		if !strings.Contains(p.body, s) {
			ev.t.Fatalf("page lacks %q: %.2000s", s, p.body)
		}
	}
}

// scim calls GET /scim/v2/Users with bearer tok and returns the status.
func (ev *env) scim(tok string) int {
	ev.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, ev.srv.URL+"/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ev.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var tokenRE = regexp.MustCompile(`id="secret-token" readonly value="(opst-[^"]+)"`)

var secretRE = regexp.MustCompile(`id="client-secret" readonly value="([^"]+)"`)

// createStaticClient creates a static_token client through the console
// and returns its id and the token shown once.
func (ev *env) createStaticClient(csrf, name string) (id, token string) {
	ev.t.Helper()
	p := ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {name}, "provider": {"Keycloak"}, "method": {"static_token"}}, nil)
	ev.expect(p, http.StatusCreated, "will not be shown again")
	m := tokenRE.FindStringSubmatch(p.body)
	if m == nil {
		ev.t.Fatalf("no token on the created page: %.1500s", p.body)
	}
	c, err := ev.svc.Client(context.Background(), name)
	if err != nil {
		ev.t.Fatal(err)
	}
	return c.ID, m[1]
}
