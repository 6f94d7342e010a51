package ratelimit_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redistest"
)

func TestGroupingNetworks(t *testing.T) {
	cases := []struct {
		bits     int
		ip, want string
	}{
		{0, "192.0.2.7", "192.0.2.7"},
		{64, "::ffff:192.0.2.7", "192.0.2.7"},
		{0, "2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"},
		{64, "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{48, "2001:db8:1:2::1", "2001:db8:1::/48"},
		{128, "2001:db8::1", "2001:db8::1/128"},
		{64, "fe80::1%eth0", "fe80::/64"},
		{64, "not-an-ip", "not-an-ip"},
	}
	for _, c := range cases {
		if got := (ratelimit.Grouping{IPv6Bits: c.bits}).Network(c.ip); got != c.want {
			t.Errorf("/%d %s: %s, want %s", c.bits, c.ip, got, c.want)
		}
	}
}

// guardEngine serves /scim/v2/Users behind g and a refuser, and
// /admin/api behind g.Guard with a handler that marks every request failed.
func guardEngine(g *ratelimit.FailureGuard) *gin.Engine {
	e := gin.New()
	log := slog.New(slog.DiscardHandler)
	e.GET("/scim/v2/Users", g.Wrap(auth.Middleware(&refuser{}, log, g.Observer())), func(c *gin.Context) { c.String(200, "ok") })
	e.GET("/admin/api", g.Guard("failed", "admin"), func(c *gin.Context) {
		if c.GetHeader("Authorization") != "Bearer good" {
			c.Set("failed", true)
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "invalid admin credential"})
			return
		}
		c.String(200, "ok")
	})
	return e
}

func call(e http.Handler, path, tok, ip string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.RemoteAddr = "[" + ip + "]:40000"
	if !strings.Contains(ip, ":") {
		req.RemoteAddr = ip + ":40000"
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	return w
}

// TestFailureBudgetPerIPv6Network: addresses of one /64 share a budget (3,
// so the fourth failure exhausts it);
// another /64 has its own.
func TestFailureBudgetPerIPv6Network(t *testing.T) {
	r := redistest.Mini(t)
	g, err := ratelimit.NewFailureGuard(ratelimit.FailureOptions{Redis: r.Client, Prefix: r.Prefix, Max: 3, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	e := guardEngine(g)
	for i, ip := range []string{"2001:db8:0:1::1", "2001:db8:0:1::2", "2001:db8:0:1:ffff::3", "2001:db8:0:1::4"} {
		if w := call(e, "/scim/v2/Users", "bad", ip); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, w.Code)
		}
	}
	if w := call(e, "/scim/v2/Users", "good", "2001:db8:0:1:abcd::9"); w.Code != http.StatusTooManyRequests {
		t.Errorf("a fourth address of the same /64: %d, want 429", w.Code)
	}
	if w := call(e, "/scim/v2/Users", "good", "2001:db8:0:2::1"); w.Code != http.StatusOK {
		t.Errorf("another /64: %d", w.Code)
	}
	if n, _ := r.Client.Exists(context.Background(), g.Key("2001:db8:0:1::/64")).Result(); n != 1 {
		t.Errorf("no budget under %s", g.Key("2001:db8:0:1::/64"))
	}
}

// TestGuardFailsClosed: with on_redis_error=deny a failure that cannot be
// charged (here NOPERM, as from a Redis ACL) is answered 503 with
// Retry-After instead of 401, and every request through the guard is
// refused until the retry time; with allow the failure is a plain 401.
func TestGuardFailsClosed(t *testing.T) {
	r := redistest.Mini(t)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	guard := func(dir ratelimit.OnRedisError, jsonErrors bool) *ratelimit.FailureGuard {
		g, err := ratelimit.NewFailureGuard(ratelimit.FailureOptions{Redis: r.Client, Prefix: r.Prefix, Max: 3, Window: time.Minute,
			OnRedisError: dir, JSONErrors: jsonErrors, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	r.Mini.SetError("NOPERM this user has no permissions to access one of the keys used as arguments")

	allow := guardEngine(guard(ratelimit.Allow, false))
	if w := call(allow, "/scim/v2/Users", "bad", "192.0.2.1"); w.Code != http.StatusUnauthorized {
		t.Errorf("allow: %d, want 401", w.Code)
	}

	deny := guardEngine(guard(ratelimit.Deny, false))
	w := call(deny, "/scim/v2/Users", "bad", "192.0.2.1")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" ||
		w.Header().Get("Content-Type") != "application/scim+json" || !strings.Contains(w.Body.String(), `"status":"503"`) {
		t.Fatalf("deny, uncharged failure: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if w := call(deny, "/scim/v2/Users", "good", "198.51.100.1"); w.Code != http.StatusServiceUnavailable {
		t.Errorf("deny: a good credential while failures cannot be counted: %d, want 503", w.Code)
	}
	r.Mini.SetError("")
	now = now.Add(time.Second)
	if w := call(deny, "/scim/v2/Users", "good", "198.51.100.1"); w.Code != http.StatusOK {
		t.Errorf("deny, after the retry time with Redis back: %d", w.Code)
	}

	// Admin API: JSON bodies; the failing request's 401 is written before
	// the charge, the following ones are refused.
	r.Mini.SetError("OOM command not allowed when used memory > 'maxmemory'")
	admin := guardEngine(guard(ratelimit.Deny, true))
	if w := call(admin, "/admin/api", "bad", "192.0.2.2"); w.Code != http.StatusUnauthorized {
		t.Errorf("admin failure: %d", w.Code)
	}
	w = call(admin, "/admin/api", "good", "192.0.2.2")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" ||
		!strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") || !strings.Contains(w.Body.String(), `"error"`) {
		t.Errorf("admin while failing closed: %d %v %s", w.Code, w.Header(), w.Body)
	}
}

// TestLimiterKeysUnderPrefix: the GCRA keys are exactly the prefixed keys,
// without redis_rate's "rate:", so an ACL ~<prefix>* covers them.
func TestLimiterKeysUnderPrefix(t *testing.T) {
	r := redistest.Mini(t)
	ctx := context.Background()
	g, err := ratelimit.NewFailureGuard(ratelimit.FailureOptions{Redis: r.Client, Prefix: r.Prefix, Max: 3, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := g.Fail(ctx, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	lim, err := ratelimit.NewClientLimiter(ratelimit.ClientOptions{Redis: r.Client, Prefix: r.Prefix, Rate: 5})
	if err != nil {
		t.Fatal(err)
	}
	e := gin.New()
	e.GET("/", func(c *gin.Context) {
		c.Request = c.Request.WithContext(auth.WithPrincipal(c.Request.Context(), &auth.Principal{ClientID: "c1"}))
	}, lim.Middleware(), func(c *gin.Context) { c.String(200, "ok") })
	if w := call(e, "/", "x", "192.0.2.1"); w.Code != 200 {
		t.Fatal(w.Code)
	}
	keys := r.Mini.Keys()
	want := map[string]bool{g.Key("192.0.2.1"): true, lim.Key("c1"): true}
	if len(keys) != 2 {
		t.Fatalf("keys %q, want %v", keys, want)
	}
	for _, k := range keys {
		if !want[k] || !strings.HasPrefix(k, r.Prefix) {
			t.Errorf("key %q outside the prefix or unexpected", k)
		}
	}
}
