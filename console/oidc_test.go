package console_test

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"golang.org/x/text/language"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/console"
	"github.com/scimgate/scimgate/server"
)

const (
	opClientID     = "scimgate-console"
	opClientSecret = "console-client-secret"
	opPassword     = "verysecure"
)

// opUsers are the accounts of the test OP. alice is allow-listed by her
// (verified) email, dave by his sub; bob is not on the list; carol's email
// is on the list but not verified.
type opUsers map[string]*storage.User

func (u opUsers) GetUserByID(id string) *storage.User { return u[id] }
func (u opUsers) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (opUsers) ExampleClientID() string { return storage.ServiceUserID }

func testUsers() opUsers {
	mk := func(id, name, email string, verified bool) *storage.User {
		return &storage.User{ID: id, Username: name, Password: opPassword, FirstName: name, LastName: "Test",
			Email: email, EmailVerified: verified, PreferredLanguage: language.English}
	}
	return opUsers{
		"alice-sub": mk("alice-sub", "alice", "alice@example.com", true),
		"bob-sub":   mk("bob-sub", "bob", "bob@example.com", true),
		"carol-sub": mk("carol-sub", "carol", "carol@example.com", false),
		"dave-sub":  mk("dave-sub", "dave", "dave@example.com", true),
	}
}

const testAdmins = "ALICE@example.com, carol@example.com, dave-sub"

// serveOP serves zitadel's example OpenID provider (its in-memory storage
// and login form) on ln, with the console registered as a confidential
// web client whose only redirect URI is redirectURL.
func serveOP(t *testing.T, ln net.Listener, redirectURL string) string {
	t.Helper()
	issuer := "http://" + ln.Addr().String()
	st := storage.NewStorageWithClients(testUsers(), map[string]*storage.Client{
		opClientID: storage.WebClient(opClientID, opClientSecret, redirectURL),
	})
	srv := &http.Server{Handler: exampleop.SetupServer(issuer, st, nil, false), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("OP: %v", err)
		}
	})
	return issuer
}

func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// newOIDCEnv is newEnv with OIDC sign-in against issuer; public_url is
// the gateway's own loopback URL.
func newOIDCEnv(t *testing.T, issuer string, ln net.Listener) *env {
	t.Helper()
	publicURL := "http://" + ln.Addr().String()
	return buildEnv(t, publicURL, &console.OIDCOptions{Issuer: issuer, ClientID: opClientID, ClientSecret: opClientSecret,
		Admins: strings.Split(testAdmins, ","), RedirectURL: publicURL + "/admin/oidc/callback",
		HTTPTimeout: 5 * time.Second, RetryAfter: time.Minute}, ln)
}

// newOIDCSetup starts the gateway and the OP, each knowing the other's URL.
func newOIDCSetup(t *testing.T) (*env, string) {
	gw := listen(t, "127.0.0.1:0")
	issuer := serveOP(t, listen(t, "127.0.0.1:0"), "http://"+gw.Addr().String()+"/admin/oidc/callback")
	return newOIDCEnv(t, issuer, gw), issuer
}

var opFormID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// fetch sends one request of the browser (no redirects followed).
func (ev *env) fetch(method, rawURL string, form url.Values) *http.Response {
	ev.t.Helper()
	var req *http.Request
	var err error
	if form != nil {
		req, err = http.NewRequest(method, rawURL, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		req, err = http.NewRequest(method, rawURL, nil)
	}
	if err != nil {
		ev.t.Fatal(err)
	}
	res, err := ev.client.Do(req)
	if err != nil {
		ev.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	return res
}

// toCallback drives the browser from /admin/oidc/login through the OP's
// authorize endpoint and login form (as user) up to, not including, the
// request to the console's callback, whose URL it returns with the flow
// cookie the console set.
func (ev *env) toCallback(user string) (callback string, flow *http.Cookie) {
	ev.t.Helper()
	res := ev.fetch(http.MethodGet, ev.srv.URL+"/admin/oidc/login", nil)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		ev.t.Fatalf("/admin/oidc/login: %d\n%s", res.StatusCode, ev.logs)
	}
	for _, c := range res.Cookies() {
		if c.Name == "scimgate_console_oidc" {
			flow = c
		}
	}
	if flow == nil || !flow.HttpOnly || flow.SameSite != http.SameSiteLaxMode || flow.Path != "/admin/oidc" || flow.MaxAge <= 0 || flow.MaxAge > 600 {
		ev.t.Fatalf("flow cookie: %+v", flow)
	}
	auth, _ := url.Parse(res.Header.Get("Location"))
	q := auth.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("nonce") == "" ||
		q.Get("state") == "" || q.Get("scope") != "openid email profile" || q.Get("response_type") != "code" ||
		q.Get("redirect_uri") != ev.srv.URL+"/admin/oidc/callback" || q.Get("client_id") != opClientID {
		ev.t.Fatalf("authorization request: %s", auth)
	}
	method, next, form := http.MethodGet, auth.String(), url.Values(nil)
	for range 10 {
		res := ev.fetch(method, next, form)
		body := readAll(res)
		if m := opFormID.FindStringSubmatch(body); res.StatusCode == http.StatusOK && m != nil {
			// The OP's login form (action /login/username): sign in as user.
			method, form = http.MethodPost, url.Values{"id": {m[1]}, "username": {user}, "password": {opPassword}}
			next = res.Request.URL.Scheme + "://" + res.Request.URL.Host + "/login/username"
			continue
		}
		loc := res.Header.Get("Location")
		if loc == "" {
			ev.t.Fatalf("OP stopped at %s: %d %.500s", res.Request.URL, res.StatusCode, body)
		}
		u, err := res.Request.URL.Parse(loc)
		if err != nil {
			ev.t.Fatal(err)
		}
		if strings.HasPrefix(u.String(), ev.srv.URL+"/admin/oidc/callback") {
			return u.String(), flow
		}
		method, next, form = http.MethodGet, u.String(), nil
	}
	ev.t.Fatal("no redirect to the callback")
	return "", nil
}

func readAll(res *http.Response) string {
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// callback requests the callback URL and returns the page.
func (ev *env) callback(u string) page {
	ev.t.Helper()
	res := ev.fetch(http.MethodGet, u, nil)
	return page{status: res.StatusCode, header: res.Header, body: readAll(res)}
}

func (ev *env) hasSession() bool {
	for _, c := range ev.client.Jar.Cookies(mustURL(ev.t, ev.srv.URL+"/admin")) {
		if c.Name == "scimgate_console" {
			return true
		}
	}
	return false
}

// assertRefused checks a failed callback: the failure page, no session,
// the reason in the log and nothing secret anywhere.
func (ev *env) assertRefused(p page, status int, reason, cbURL string) {
	ev.t.Helper()
	ev.expect(p, status, "Sign-in failed", "Sign-in with 127.0.0.1")
	if ev.hasSession() {
		ev.t.Fatal("a session cookie was set on a refused sign-in")
	}
	if !strings.Contains(ev.logs.String(), reason) {
		ev.t.Fatalf("log lacks %q:\n%s", reason, ev.logs)
	}
	ev.assertNoSecrets(cbURL, p.body)
}

// assertNoSecrets: neither the log nor the page holds the code or state.
func (ev *env) assertNoSecrets(cbURL, body string) {
	ev.t.Helper()
	u, _ := url.Parse(cbURL)
	for _, k := range []string{"code", "state"} {
		v := u.Query().Get(k)
		if v == "" {
			continue
		}
		if strings.Contains(ev.logs.String(), v) || strings.Contains(body, v) {
			ev.t.Fatalf("the %s reached the log or the page", k)
		}
	}
}

func TestOIDCSignInWithZitadelOP(t *testing.T) {
	ev, issuer := newOIDCSetup(t)
	host := strings.TrimPrefix(issuer, "http://")
	lp := ev.get("/admin/login")
	ev.expect(lp, http.StatusOK, `type="password"`, "Sign in with "+host, `href="/admin/oidc/login"`)

	// alice: allow-listed by her verified email (case-insensitive).
	cb, flow := ev.toCallback("alice")
	p := ev.callback(cb)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/clients" {
		t.Fatalf("callback: %d %s %.500s\n%s", p.status, p.header.Get("Location"), p.body, ev.logs)
	}
	var sc *http.Cookie
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "scimgate_console" {
			sc = c
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/admin" {
		t.Fatalf("session cookie: %+v", sc)
	}
	// A working session: a CSRF-protected action succeeds and is audited
	// as this administrator's.
	csrf := ev.csrf(ev.get("/admin/clients"))
	ev.createStaticClient(csrf, "made-by-alice")
	ev.expect(ev.get("/admin/audit"), http.StatusOK, "console_oidc:alice-sub")
	if !strings.Contains(ev.logs.String(), `"sub":"alice-sub"`) {
		t.Fatalf("sign-in not logged:\n%s", ev.logs)
	}
	ev.assertNoSecrets(cb, p.body)
	for _, k := range ev.r.Mini.Keys() {
		if strings.Contains(k, flow.Value) || strings.Contains(k, ":console:oidc:") {
			t.Fatalf("flow left in Redis or its id in a key: %s", k)
		}
	}

	// Replayed callback, in a browser that still holds the flow cookie
	// (the state was deleted on first use) and in this one (cookie gone).
	other := newBrowser(t)
	other.Jar.SetCookies(mustURL(t, ev.srv.URL+"/admin/oidc"), []*http.Cookie{{Name: flow.Name, Value: flow.Value, Path: "/admin/oidc"}})
	saved := ev.client
	ev.client = other
	ev.assertRefused(ev.callback(cb), http.StatusBadRequest, "unknown, expired or already used sign-in", cb)
	ev.client = saved
	if p := ev.callback(cb); p.status != http.StatusBadRequest || !strings.Contains(ev.logs.String(), "flow cookie missing") {
		t.Fatalf("replay in the same browser: %d", p.status)
	}

	// dave: allow-listed by sub.
	dv := &env{t: t, r: ev.r, srv: ev.srv, svc: ev.svc, logs: ev.logs, client: newBrowser(t), now: ev.now}
	cb, _ = dv.toCallback("dave")
	if p := dv.callback(cb); p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/clients" {
		t.Fatalf("dave: %d %.300s", p.status, p.body)
	}
	dv.expect(dv.get("/admin/clients"), http.StatusOK, "made-by-alice")
}

func TestOIDCRefusesOthers(t *testing.T) {
	ev, _ := newOIDCSetup(t)
	fresh := func() { ev.client = newBrowser(t) }

	// bob has an account at the provider but is not on the allow-list.
	cb, _ := ev.toCallback("bob")
	ev.assertRefused(ev.callback(cb), http.StatusForbidden, `sub \"bob-sub\" is not on console.oidc_admins`, cb)
	if p := ev.get("/admin/clients"); p.status != http.StatusSeeOther {
		t.Fatalf("bob reached the clients page: %d", p.status)
	}

	// carol's email is on the list but the provider has not verified it.
	fresh()
	cb, _ = ev.toCallback("carol")
	ev.assertRefused(ev.callback(cb), http.StatusForbidden, "its email is not verified", cb)

	// Tampered state: refused, and the flow is gone, so the genuine
	// callback that follows is refused too.
	fresh()
	cb, flow := ev.toCallback("alice")
	u, _ := url.Parse(cb)
	q := u.Query()
	q.Set("state", q.Get("state")[:len(q.Get("state"))-2]+"xx")
	u.RawQuery = q.Encode()
	ev.assertRefused(ev.callback(u.String()), http.StatusBadRequest, "state does not match", cb)
	ev.client.Jar.SetCookies(mustURL(t, ev.srv.URL+"/admin/oidc"), []*http.Cookie{{Name: flow.Name, Value: flow.Value, Path: "/admin/oidc"}})
	ev.assertRefused(ev.callback(cb), http.StatusBadRequest, "unknown, expired or already used sign-in", cb)

	// The provider's error answer (e.g. the user cancelled).
	fresh()
	cb, _ = ev.toCallback("alice")
	u, _ = url.Parse(cb)
	q = u.Query()
	q.Del("code")
	q.Set("error", "access_denied")
	u.RawQuery = q.Encode()
	ev.assertRefused(ev.callback(u.String()), http.StatusUnauthorized, `answered error \"access_denied\"`, cb)

	// A code without the browser's flow (CSRF-style login injection).
	fresh()
	cb, _ = ev.toCallback("alice")
	ev.client = newBrowser(t)
	ev.assertRefused(ev.callback(cb), http.StatusBadRequest, "flow cookie missing", cb)

	// A flow older than 10 minutes has expired.
	fresh()
	cb, _ = ev.toCallback("alice")
	ev.advance(11 * time.Minute)
	ev.assertRefused(ev.callback(cb), http.StatusBadRequest, "unknown, expired or already used sign-in", cb)
}

// TestOIDCProviderDownAtStart: the console starts without the provider,
// says so on the OIDC button's page, and works once it is up.
func TestOIDCProviderDownAtStart(t *testing.T) {
	opLn := listen(t, "127.0.0.1:0")
	opAddr := opLn.Addr().String()
	opLn.Close() // nothing listens there yet
	gw := listen(t, "127.0.0.1:0")
	ev := newOIDCEnv(t, "http://"+opAddr, gw)
	ev.expect(ev.get("/admin/login"), http.StatusOK, "Sign in with "+opAddr)
	p := ev.get("/admin/oidc/login")
	ev.expect(p, http.StatusBadGateway, "Sign-in failed", "could not be reached")
	if !strings.Contains(ev.logs.String(), "OIDC discovery") {
		t.Fatalf("discovery failure not logged:\n%s", ev.logs)
	}
	// The credential sign-in is unaffected.
	ev.signIn()

	serveOP(t, listen(t, opAddr), ev.srv.URL+"/admin/oidc/callback")
	// Within the retry interval the failure is remembered...
	ev.client = newBrowser(t)
	ev.expect(ev.get("/admin/oidc/login"), http.StatusBadGateway, "could not be reached")
	// ...after it discovery is tried again and succeeds.
	ev.advance(2 * time.Minute)
	cb, _ := ev.toCallback("alice")
	if p := ev.callback(cb); p.status != http.StatusSeeOther {
		t.Fatalf("callback after the provider came up: %d %.300s\n%s", p.status, p.body, ev.logs)
	}
}

// TestOIDCSessionEndsWhenAdminIsRemoved: a session records the allow-list
// entry it matched; a console without that entry (or without OIDC) does
// not accept it.
func TestOIDCSessionEndsWhenAdminIsRemoved(t *testing.T) {
	ev, _ := newOIDCSetup(t)
	cb, _ := ev.toCallback("alice")
	if p := ev.callback(cb); p.status != http.StatusSeeOther {
		t.Fatalf("callback: %d", p.status)
	}
	// A second console on the same Redis, configured without OIDC.
	cred, _ := adminapi.NewCredential(adminToken, "")
	con, err := console.New(console.Options{Service: ev.svc, Credential: cred, Audit: audit.NewLog(ev.r.Client, ev.r.Prefix, 0),
		Redis: ev.r.Client, RedisPrefix: ev.r.Prefix, SessionTTL: sessionTTL, Now: ev.clock})
	if err != nil {
		t.Fatal(err)
	}
	e := server.New(server.Options{Log: slog.New(slog.DiscardHandler), Redis: pinger{ev.r}, ReadyTimeout: time.Second})
	con.Mount(e.Group(console.Prefix))
	plain := httptest.NewServer(e)
	defer plain.Close()
	jar, _ := cookiejar.New(nil)
	for _, c := range ev.client.Jar.Cookies(mustURL(t, ev.srv.URL+"/admin")) {
		jar.SetCookies(mustURL(t, plain.URL+"/admin"), []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/admin"}})
	}
	cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.Get(plain.URL + "/admin/clients")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("OIDC session accepted by a console without OIDC: %d", res.StatusCode)
	}
	// Still fine on the console that has alice on its list.
	ev.expect(ev.get("/admin/clients"), http.StatusOK, "SCIM clients")
}
