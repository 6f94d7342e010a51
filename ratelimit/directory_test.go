package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/tokenstore"
)

// dirs is a DirectorySource over a map.
type dirs struct {
	mu sync.Mutex
	m  map[string]*tokenstore.RateLimit
}

func (d *dirs) DirectoryRateLimit(_ context.Context, id string) (*tokenstore.RateLimit, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m[id], nil
}

// member stands in for auth.Middleware: the request acts for the client
// named in X-Client, of the directory named in X-Dir.
func member(c *gin.Context) {
	p := &auth.Principal{ClientID: c.GetHeader("X-Client"), DirectoryID: c.GetHeader("X-Dir"), Method: auth.MethodStaticToken}
	c.Request = c.Request.WithContext(auth.WithPrincipal(c.Request.Context(), p))
	c.Next()
}

func dirEngine(l *ratelimit.ClientLimiter) *gin.Engine {
	e := gin.New()
	g := e.Group("/scim/v2", member, l.Middleware())
	g.GET("/Users", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	g.POST("/Bulk", func(c *gin.Context) {
		if l.Charge(c, 2) { // a /Bulk of 3 operations
			c.String(http.StatusOK, "ok")
		}
	})
	return e
}

func dirGet(e http.Handler, method, client, dir string) *httptest.ResponseRecorder {
	path := "/scim/v2/Users"
	if method == http.MethodPost {
		path = "/scim/v2/Bulk"
	}
	r := httptest.NewRequest(method, path, nil)
	r.Header.Set("X-Client", client)
	r.Header.Set("X-Dir", dir)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

// TestDirectoryLimitShared: two clients of one directory share its budget
// (each well under its own client limit), the 429 says it is the
// directory's limit, and a client of another directory is not touched.
func TestDirectoryLimitShared(t *testing.T) {
	r := redistest.Mini(t)
	r.Mini.SetTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	src := &dirs{m: map[string]*tokenstore.RateLimit{"A": {Rate: 1, Period: time.Second, Burst: 4}}}
	e := dirEngine(newLimiter(t, r, ratelimit.ClientOptions{Rate: 100, Burst: 100, Directories: src}))

	for i, c := range []string{"a1", "a2", "a1", "a2"} {
		if w := dirGet(e, http.MethodGet, c, "A"); w.Code != http.StatusOK {
			t.Fatalf("request %d (%s): %d", i+1, c, w.Code)
		}
	}
	w := dirGet(e, http.MethodGet, "a2", "A")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("5th request of directory A (burst 4): %d, want 429", w.Code)
	}
	if w.Header().Get("Retry-After") != "1" || w.Header().Get(ratelimit.HeaderLimit) != "4" || w.Header().Get(ratelimit.HeaderRemaining) != "0" {
		t.Errorf("429 headers %v", w.Header())
	}
	if body := w.Body.String(); !strings.Contains(body, "directory") || !strings.Contains(body, `"status":"429"`) {
		t.Errorf("429 detail does not name the directory's limit: %s", body)
	}
	for i := range 10 {
		if w := dirGet(e, http.MethodGet, "b1", "B"); w.Code != http.StatusOK {
			t.Fatalf("client of directory B, request %d: %d", i+1, w.Code)
		}
	}
	// A new client of A is refused too: the budget is the directory's.
	if w := dirGet(e, http.MethodGet, "a3", "A"); w.Code != http.StatusTooManyRequests {
		t.Errorf("third client of A: %d, want 429", w.Code)
	}
	r.Mini.SetTime(time.Date(2030, 1, 1, 0, 0, 1, 0, time.UTC))
	if w := dirGet(e, http.MethodGet, "a1", "A"); w.Code != http.StatusOK {
		t.Errorf("after 1s: %d, want 200", w.Code)
	}
}

// TestDirectoryDefaultAndBulk: the configured directory default applies to
// directories without their own limit; the RateLimit headers report the
// tighter of the two limits; /Bulk charges the directory per operation,
// and more operations than the directory's burst is a 413.
func TestDirectoryDefaultAndBulk(t *testing.T) {
	r := redistest.Mini(t)
	r.Mini.SetTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	src := &dirs{m: map[string]*tokenstore.RateLimit{"small": {Rate: 1, Period: time.Second, Burst: 2}}}
	e := dirEngine(newLimiter(t, r, ratelimit.ClientOptions{Rate: 100, Burst: 100, DirectoryRate: 1, DirectoryBurst: 5, Directories: src}))

	w := dirGet(e, http.MethodGet, "c1", "")
	if w.Code != http.StatusOK || w.Header().Get(ratelimit.HeaderLimit) != "5" || w.Header().Get(ratelimit.HeaderRemaining) != "4" {
		t.Fatalf("default directory, first request: %d %v", w.Code, w.Header())
	}
	w = dirGet(e, http.MethodPost, "c2", "")
	if w.Code != http.StatusOK || w.Header().Get(ratelimit.HeaderRemaining) != "1" {
		t.Fatalf("bulk of 3 with 4 left: %d %v", w.Code, w.Header())
	}
	w = dirGet(e, http.MethodPost, "c1", "")
	if w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), "directory") {
		t.Fatalf("bulk of 3 with 1 left: %d %s", w.Code, w.Body.String())
	}
	w = dirGet(e, http.MethodPost, "c3", "small")
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "directory") {
		t.Errorf("bulk of 3 in a directory of burst 2: %d %s", w.Code, w.Body.String())
	}
}

// TestDirectoryLimitAcrossReplicas: two limiters on one Redis stand for
// two gateway replicas; clients of one directory spread over both get no
// more than the directory's burst together (one GCRA state in Redis,
// leased), on miniredis and on real Redis.
func TestDirectoryLimitAcrossReplicas(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		src := &dirs{m: map[string]*tokenstore.RateLimit{"A": {Rate: 1, Period: time.Minute, Burst: 20}}}
		replicas := []*gin.Engine{
			dirEngine(newLimiter(t, r, ratelimit.ClientOptions{Rate: 1000, Burst: 1000, Directories: src})),
			dirEngine(newLimiter(t, r, ratelimit.ClientOptions{Rate: 1000, Burst: 1000, Directories: src})),
		}
		var mu sync.Mutex
		admitted := 0
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := range 10 {
					e := replicas[(w+i)%2]
					if dirGet(e, http.MethodGet, "c"+strconv.Itoa(w), "A").Code == http.StatusOK {
						mu.Lock()
						admitted++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if admitted != 20 {
			t.Fatalf("%d requests of directory A admitted over two replicas, want its burst 20", admitted)
		}
		if dirGet(replicas[0], http.MethodGet, "b", "B").Code != http.StatusOK {
			t.Error("directory B limited by A's budget")
		}
	})
}
