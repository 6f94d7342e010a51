package ratelimit_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/tokenstore"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// asClient stands in for auth.Middleware: the request acts for the client
// named in the X-Client header.
func asClient(c *gin.Context) {
	p := &auth.Principal{ClientID: c.GetHeader("X-Client"), Method: auth.MethodStaticToken}
	c.Request = c.Request.WithContext(auth.WithPrincipal(c.Request.Context(), p))
	c.Next()
}

func engine(mw ...gin.HandlerFunc) *gin.Engine {
	e := gin.New()
	g := e.Group("/scim/v2", append([]gin.HandlerFunc{asClient}, mw...)...)
	g.GET("/Users", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	return e
}

func get(e http.Handler, client string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/scim/v2/Users", nil)
	r.Header.Set("X-Client", client)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

// clients is a ClientSource over a map, counting reads.
type clients struct {
	mu    sync.Mutex
	m     map[string]tokenstore.Client
	reads int
}

func (c *clients) GetClient(_ context.Context, id string) (tokenstore.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	cl, ok := c.m[id]
	if !ok {
		return cl, tokenstore.ErrNotFound
	}
	return cl, nil
}

func newLimiter(t testing.TB, r *redistest.Redis, o ratelimit.ClientOptions) *ratelimit.ClientLimiter {
	t.Helper()
	o.Redis, o.Prefix = r.Client, r.Prefix
	l, err := ratelimit.NewClientLimiter(o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// miniredis moves TIME inside scripts with SetTime, so limits are exact.
func TestClientLimitHeadersAnd429(t *testing.T) {
	r := redistest.Mini(t)
	r.Mini.SetTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	e := engine(newLimiter(t, r, ratelimit.ClientOptions{Rate: 2, Burst: 3}).Middleware())

	for i := range 3 {
		w := get(e, "c1")
		if w.Code != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, w.Code)
		}
		if got, want := w.Header().Get(ratelimit.HeaderRemaining), strconv.Itoa(2-i); got != want {
			t.Errorf("request %d: RateLimit-Remaining %q, want %q", i+1, got, want)
		}
		if w.Header().Get(ratelimit.HeaderLimit) != "3" || w.Header().Get(ratelimit.HeaderReset) == "" {
			t.Errorf("request %d: headers %v", i+1, w.Header())
		}
	}
	w := get(e, "c1")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("4th request: %d, want 429", w.Code)
	}
	if got := w.Header().Get("Retry-After"); got != "1" { // one token per 500ms, rounded up
		t.Errorf("Retry-After %q, want 1", got)
	}
	if w.Header().Get(ratelimit.HeaderRemaining) != "0" || w.Header().Get(ratelimit.HeaderLimit) != "3" {
		t.Errorf("429 headers %v", w.Header())
	}
	body := w.Body.String()
	if !strings.Contains(body, `"status":"429"`) || !strings.Contains(body, "urn:ietf:params:scim:api:messages:2.0:Error") {
		t.Errorf("429 body is not a SCIM error: %s", body)
	}
	if get(e, "c2").Code != http.StatusOK {
		t.Error("another client was limited by c1's budget")
	}
	r.Mini.SetTime(time.Date(2030, 1, 1, 0, 0, 0, int(500*time.Millisecond), time.UTC))
	if w := get(e, "c1"); w.Code != http.StatusOK {
		t.Errorf("after 500ms: %d, want 200", w.Code)
	}
}

func TestClientOverrideCached(t *testing.T) {
	r := redistest.Mini(t)
	r.Mini.SetTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	src := &clients{m: map[string]tokenstore.Client{
		"big": {ID: "big", RateLimit: &tokenstore.RateLimit{Rate: 100, Period: time.Second, Burst: 10}},
	}}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(t, r, ratelimit.ClientOptions{Rate: 1, Burst: 1, Clients: src, Now: func() time.Time { return now }})
	e := engine(l.Middleware())
	for i := range 10 {
		if w := get(e, "big"); w.Code != http.StatusOK {
			t.Fatalf("override client, request %d: %d", i+1, w.Code)
		}
	}
	if w := get(e, "big"); w.Code != http.StatusTooManyRequests || w.Header().Get(ratelimit.HeaderLimit) != "10" {
		t.Fatalf("11th request: %d, limit %q", w.Code, w.Header().Get(ratelimit.HeaderLimit))
	}
	if get(e, "small").Code != http.StatusOK || get(e, "small").Code != http.StatusTooManyRequests {
		t.Error("default limit (burst 1) not applied to a client without override")
	}
	if src.reads != 2 {
		t.Errorf("override read %d times for 14 requests of 2 clients within 1s, want 2", src.reads)
	}
	now = now.Add(1100 * time.Millisecond)
	get(e, "big")
	if src.reads != 3 {
		t.Errorf("override not re-read after the cache TTL: %d reads", src.reads)
	}
}

// unreachable returns a backend whose Redis is down: its address is held by
// a listener of this test that closes every connection at once, so it
// fails the same way on every run. (These tests used to close a miniredis
// instead, which freed its port: under load another test's miniredis could
// bind that port, and the "down" Redis then answered, admitting the first
// request and refusing the second with 429.)
func unreachable(t testing.TB) *redistest.Redis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	c := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return &redistest.Redis{Client: c, Prefix: "down:"}
}

func TestRedisDown(t *testing.T) {
	for _, tc := range []struct {
		dir        ratelimit.OnRedisError
		wantStatus int
	}{{ratelimit.Allow, http.StatusOK}, {ratelimit.Deny, http.StatusServiceUnavailable}} {
		t.Run(string(tc.dir), func(t *testing.T) {
			var logs strings.Builder
			log := slog.New(slog.NewTextHandler(&logs, nil))
			e := engine(newLimiter(t, unreachable(t), ratelimit.ClientOptions{Rate: 1, Burst: 1, OnRedisError: tc.dir, Log: log}).Middleware())
			for range 3 {
				w := get(e, "c1")
				if w.Code != tc.wantStatus {
					t.Fatalf("status %d, want %d", w.Code, tc.wantStatus)
				}
				if tc.dir == ratelimit.Deny && (w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), `"status":"503"`)) {
					t.Errorf("deny answer: %v %s", w.Header(), w.Body)
				}
			}
			if n := strings.Count(logs.String(), "Redis unreachable"); tc.dir == ratelimit.Allow && n != 1 {
				t.Errorf("allow logged %d times for 3 requests, want 1 (rate-limited log)", n)
			}
		})
	}
}

func TestNewClientLimiterRefusesBadDirection(t *testing.T) {
	r := redistest.Mini(t)
	if _, err := ratelimit.NewClientLimiter(ratelimit.ClientOptions{Redis: r.Client, Rate: 1, OnRedisError: "maybe"}); err == nil {
		t.Fatal("on_redis_error=maybe accepted")
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]time.Duration{"50/s": time.Second, "600/m": time.Minute, " 7 / h ": time.Hour} {
		if _, per, err := ratelimit.ParseRate(in); err != nil || per != want {
			t.Errorf("ParseRate(%q) = %v, %v", in, per, err)
		}
	}
	for _, in := range []string{"", "50", "0/s", "-1/s", "5/d", "x/s"} {
		if _, _, err := ratelimit.ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}

// TestTwoInstancesShareTheLimit runs two gateway engines with their own
// limiters on one real Redis, each sending as fast as it can for 5s. The
// admitted total must be within 5% of the GCRA allowance burst + rate×t.
func TestTwoInstancesShareTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("5s accuracy test")
	}
	r := redistest.Real(t)
	const rate, burst = 200, 200 // burst is raised to the rate when lower
	engines := []*gin.Engine{
		engine(newLimiter(t, r, ratelimit.ClientOptions{Rate: rate, Burst: burst}).Middleware()),
		engine(newLimiter(t, r, ratelimit.ClientOptions{Rate: rate, Burst: burst}).Middleware()),
	}
	client := "acc-" + r.Prefix
	var admitted, limited, other atomic.Int64
	start := time.Now()
	deadline := start.Add(5 * time.Second)
	var wg sync.WaitGroup
	for _, e := range engines {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					switch get(e, client).Code {
					case http.StatusOK:
						admitted.Add(1)
					case http.StatusTooManyRequests:
						limited.Add(1)
					default:
						other.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	allowance := burst + rate*elapsed
	got := float64(admitted.Load())
	dev := (got - allowance) / allowance * 100
	t.Logf("admitted %d, refused %d over %.2fs across 2 instances; allowance %.0f; deviation %+.2f%%",
		admitted.Load(), limited.Load(), elapsed, allowance, dev)
	if other.Load() != 0 {
		t.Errorf("%d answers neither 200 nor 429", other.Load())
	}
	if limited.Load() < admitted.Load() {
		t.Errorf("offered load too low to test the limit: %d refused, %d admitted", limited.Load(), admitted.Load())
	}
	if dev < -5 || dev > 5 {
		t.Errorf("admitted %v, allowance %.0f: off by %.2f%% (> 5%%)", got, allowance, dev)
	}
}

var errBoom = errors.New("boom")

// failingSource makes every override read fail.
type failingSource struct{}

func (failingSource) GetClient(context.Context, string) (tokenstore.Client, error) {
	return tokenstore.Client{}, errBoom
}

func TestOverrideReadFailureUsesDefault(t *testing.T) {
	r := redistest.Mini(t)
	r.Mini.SetTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	l := newLimiter(t, r, ratelimit.ClientOptions{Rate: 1, Burst: 2, Clients: failingSource{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e := engine(l.Middleware())
	codes := []int{get(e, "c").Code, get(e, "c").Code, get(e, "c").Code}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Errorf("codes %v, want the default limit (burst 2)", codes)
	}
}
