package scimapi_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/server"
)

// TestBulkChargesPerOperation: behind the per-client rate limit, /Bulk
// costs one request per operation. A bulk the remaining allowance cannot
// cover is answered 429 with Retry-After and runs none of its operations.
func TestBulkChargesPerOperation(t *testing.T) {
	r := redistest.Mini(t)
	r.Mini.SetTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	lim, err := ratelimit.NewClientLimiter(ratelimit.ClientOptions{Redis: r.Client, Prefix: r.Prefix, Rate: 1, Burst: 10})
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	e := &env{t: t, engine: gin.New(), compat: map[string]int{}, token: auth.ScopeSCIM, redis: r}
	e.engine.Use(server.RequestID())
	h := scimapi.New(schema.NewRegistry(), scimapi.Single(store.NewRedis(r.Client, r.Prefix)), scimapi.Options{
		MaxBodyBytes: 64 << 10, ChargeExtra: lim.Charge, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	h.Register(e.engine.Group("/scim/v2", auth.Middleware(testAuth{}, slog.New(slog.DiscardHandler), nil), lim.Middleware()))

	users := func(from, n int) map[string]any {
		var ops []map[string]any
		for i := from; i < from+n; i++ {
			ops = append(ops, map[string]any{"method": "POST", "path": "/Users", "bulkId": fmt.Sprintf("u%d", i), "data": map[string]any{"userName": fmt.Sprintf("rate%d", i)}})
		}
		return bulkOps(ops...)
	}
	if res := bulkResults(t, e.must(e.do("POST", "/scim/v2/Bulk", users(0, 7)), 200)); len(res) != 7 {
		t.Fatalf("%d results", len(res))
	}
	// 3 requests left: a bulk of 4 operations is refused whole.
	w := e.do("POST", "/scim/v2/Bulk", users(7, 4))
	wantError(t, w, http.StatusTooManyRequests, "")
	if w.hdr.Get("Retry-After") == "" {
		t.Fatalf("429 without Retry-After: %v", w.hdr)
	}
	if n := e.must(e.do("GET", "/scim/v2/Users?count=0", nil), 200).body["totalResults"]; n != float64(7) {
		t.Fatalf("a refused bulk ran operations: %v users", n)
	}
	// The refused bulk cost one request, as any request reaching the
	// handler does, and the GET one more: one operation still fits.
	e.must(e.do("POST", "/scim/v2/Bulk", users(7, 1)), 200)
	wantError(t, e.do("GET", "/scim/v2/Users?count=0", nil), http.StatusTooManyRequests, "")
}
