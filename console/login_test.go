package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPagesNeedASession(t *testing.T) {
	ev := newEnv(t, "")
	for _, path := range []string{"/admin", "/admin/clients", "/admin/clients/new", "/admin/audit"} {
		p := ev.get(path)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/admin/login") {
			t.Errorf("GET %s without a session: %d %s", path, p.status, p.header.Get("Location"))
		}
	}
	lp := ev.get("/admin/login")
	p := ev.post("/admin/clients", url.Values{"csrf": {ev.csrf(lp)}, "name": {"x"}}, nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("POST without a session: %d", p.status)
	}
	if cs, _ := ev.svc.ListClients(t.Context()); len(cs) != 0 {
		t.Fatalf("a client was created without a session: %v", cs)
	}
}

func TestSignInChecksTheAdminCredential(t *testing.T) {
	ev := newEnv(t, "")
	lp := ev.get("/admin/login")
	ev.expect(lp, http.StatusOK, `type="password"`)

	p := ev.post("/admin/login", url.Values{"csrf": {ev.csrf(lp)}, "token": {"opadm-wrong"}}, nil)
	ev.expect(p, http.StatusUnauthorized, "not the admin credential")
	if strings.Contains(p.body, "opadm-wrong") {
		t.Fatal("the typed credential is echoed back")
	}
	for _, c := range ev.client.Jar.Cookies(mustURL(t, ev.srv.URL+"/admin")) {
		if c.Name == "scimgate_console" {
			t.Fatal("a session cookie was set after a failed sign-in")
		}
	}
	if strings.Contains(ev.logs.String(), "opadm-wrong") {
		t.Fatal("the typed credential was logged")
	}

	// The sign-in form's own CSRF token is required.
	p = ev.post("/admin/login", url.Values{"csrf": {"forged"}, "token": {adminToken}}, nil)
	ev.expect(p, http.StatusForbidden, "expired")

	lp = ev.get("/admin/login")
	resp := ev.post("/admin/login", url.Values{"csrf": {ev.csrf(lp)}, "token": {adminToken}}, nil)
	if resp.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.status)
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: resp.header}).Cookies() {
		if c.Name == "scimgate_console" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie")
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/admin" || cookie.Secure {
		t.Fatalf("cookie attributes: %+v", cookie)
	}
	if len(cookie.Value) < 40 {
		t.Fatalf("session id too short: %d characters", len(cookie.Value))
	}
	if strings.Contains(ev.logs.String(), cookie.Value) || strings.Contains(ev.logs.String(), adminToken) {
		t.Fatal("session id or admin token in the log")
	}
	// Redis holds the session under a hash of its id, never the id itself.
	keys := ev.r.Mini.Keys()
	for _, k := range keys {
		if strings.Contains(k, cookie.Value) {
			t.Fatalf("session id in a Redis key: %s", k)
		}
	}
	ev.expect(ev.get("/admin/clients"), http.StatusOK, "SCIM clients")
	// Signed in, the sign-in page sends to the clients.
	if p := ev.get("/admin/login"); p.status != http.StatusSeeOther {
		t.Fatalf("login page while signed in: %d", p.status)
	}
}

func TestSessionCookieIsSecureBehindHTTPSPublicURL(t *testing.T) {
	ev := newEnv(t, "https://scim.example.com")
	lp := ev.get("/admin/login")
	// Origin is the public URL's, as behind a TLS-terminating proxy.
	p := ev.post("/admin/login", url.Values{"csrf": {ev.csrf(lp)}, "token": {adminToken}}, map[string]string{"Origin": "https://scim.example.com"})
	if p.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %.300s", p.status, p.body)
	}
	found := false
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "scimgate_console" {
			found = true
			if !c.Secure {
				t.Fatal("session cookie not Secure with an https public_url")
			}
		}
	}
	if !found {
		t.Fatal("no session cookie")
	}
}

func TestSessionExpires(t *testing.T) {
	ev := newEnv(t, "")
	ev.signIn()
	ev.advance(sessionTTL - time.Minute)
	ev.expect(ev.get("/admin/clients"), http.StatusOK, "SCIM clients")
	ev.advance(2 * time.Minute)
	p := ev.get("/admin/clients")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/login?notice=expired" {
		t.Fatalf("after the TTL: %d %s", p.status, p.header.Get("Location"))
	}
	ev.expect(ev.get("/admin/login?notice=expired"), http.StatusOK, "session has ended")
}

func TestSignOutEndsTheSession(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	if p := ev.post("/admin/logout", url.Values{"csrf": {"wrong"}}, nil); p.status != http.StatusForbidden {
		t.Fatalf("logout without the CSRF token: %d", p.status)
	}
	p := ev.post("/admin/logout", url.Values{"csrf": {csrf}}, nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/login?notice=signedout" {
		t.Fatalf("logout: %d %s", p.status, p.header.Get("Location"))
	}
	if p := ev.get("/admin/clients"); p.status != http.StatusSeeOther {
		t.Fatalf("after logout: %d", p.status)
	}
	if n := len(ev.r.Mini.Keys()); n != 0 {
		// Only the session ever lived in Redis in this test.
		t.Fatalf("keys left after logout: %v", ev.r.Mini.Keys())
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
