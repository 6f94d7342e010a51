package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redistest"
)

// chargeEngine serves POST /scim/v2/Bulk?n=N, which charges N more
// requests the way the /Bulk handler does and counts the runs it admits.
func chargeEngine(l *ratelimit.ClientLimiter, ran *int) *gin.Engine {
	e := gin.New()
	g := e.Group("/scim/v2", asClient, l.Middleware())
	g.POST("/Bulk", func(c *gin.Context) {
		n, _ := strconv.Atoi(c.Query("n"))
		if !l.Charge(c, n) {
			return
		}
		*ran++
		c.String(http.StatusOK, "ok")
	})
	return e
}

func bulk(e http.Handler, client string, extra int) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/scim/v2/Bulk?n="+strconv.Itoa(extra), nil)
	r.Header.Set("X-Client", client)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

// TestChargeCountsOperations: a request standing for several operations
// spends that many requests of the client's allowance, and one that the
// remaining allowance cannot cover is refused with 429 and Retry-After
// before its work runs; more operations than the burst is a 413.
func TestChargeCountsOperations(t *testing.T) {
	r := redistest.Mini(t)
	r.Mini.SetTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	ran := 0
	e := chargeEngine(newLimiter(t, r, ratelimit.ClientOptions{Rate: 1, Burst: 10}), &ran)

	if w := bulk(e, "c1", 5); w.Code != http.StatusOK || w.Header().Get(ratelimit.HeaderRemaining) != "4" {
		t.Fatalf("6 operations of 10: %d, remaining %q", w.Code, w.Header().Get(ratelimit.HeaderRemaining))
	}
	w := bulk(e, "c1", 5) // 1 (middleware) + 5 > 4 left
	if w.Code != http.StatusTooManyRequests || ran != 1 {
		t.Fatalf("6 more operations with 4 left: %d, ran %d", w.Code, ran)
	}
	if ra := w.Header().Get("Retry-After"); ra != "2" { // 5 more needed, 3 left after the middleware's one: 2s at 1/s
		t.Errorf("Retry-After %q, want 2", ra)
	}
	if !strings.Contains(w.Body.String(), `"status":"429"`) {
		t.Errorf("429 body: %s", w.Body)
	}
	// The refused charge spent nothing: the 3 left still admit 3 operations.
	if w := bulk(e, "c1", 2); w.Code != http.StatusOK || ran != 2 {
		t.Fatalf("3 operations with 3 left: %d", w.Code)
	}
	if w := bulk(e, "c2", 10); w.Code != http.StatusRequestEntityTooLarge || ran != 2 || !strings.Contains(w.Body.String(), "at most 10") {
		t.Fatalf("11 operations over a burst of 10: %d %s", w.Code, w.Body)
	}
	// Unlimited clients and single operations are not charged.
	free := chargeEngine(newLimiter(t, r, ratelimit.ClientOptions{Rate: 0}), &ran)
	if w := bulk(free, "c3", 1000); w.Code != http.StatusOK {
		t.Fatalf("unlimited: %d", w.Code)
	}
}

// TestChargeRedisDown: Charge follows ratelimit.on_redis_error.
func TestChargeRedisDown(t *testing.T) {
	for _, tc := range []struct {
		dir  ratelimit.OnRedisError
		want int
	}{{ratelimit.Allow, http.StatusOK}, {ratelimit.Deny, http.StatusServiceUnavailable}} {
		t.Run(string(tc.dir), func(t *testing.T) {
			l := newLimiter(t, unreachable(t), ratelimit.ClientOptions{Rate: 5, Burst: 10, OnRedisError: tc.dir})
			e := gin.New()
			e.POST("/Bulk", asClient, func(c *gin.Context) {
				if l.Charge(c, 3) {
					c.String(http.StatusOK, "ok")
				}
			})
			req := httptest.NewRequest(http.MethodPost, "/Bulk", nil)
			req.Header.Set("X-Client", "c1")
			w := httptest.NewRecorder()
			e.ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
			if tc.dir == ratelimit.Deny && w.Header().Get("Retry-After") != "1" {
				t.Errorf("deny without Retry-After: %v", w.Header())
			}
		})
	}
}
