package ratelimit_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

// BenchmarkLimiterOnOff is the SCIM request path (GET /Users/{id} through
// the scimapi handler and its Redis store) without and with the per-client
// limiter. It runs on the real Redis at SCIMGATE_TEST_REDIS_URL when set,
// else on miniredis:
//
//	SCIMGATE_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench LimiterOnOff -benchtime 3s ./ratelimit/
func BenchmarkLimiterOnOff(b *testing.B) {
	var r *redistest.Redis
	if os.Getenv(redistest.EnvURL) != "" {
		r = redistest.Real(b)
	} else {
		r = redistest.Mini(b)
	}
	principal := func(c *gin.Context) {
		p := &auth.Principal{ClientID: "bench", Method: auth.MethodStaticToken, Scopes: []string{auth.ScopeSCIM}}
		c.Request = c.Request.WithContext(auth.WithPrincipal(c.Request.Context(), p))
		c.Next()
	}
	h := scimapi.New(schema.NewRegistry(), scimapi.Single(store.NewRedis(r.Client, r.Prefix)), scimapi.Options{})
	off := gin.New()
	h.Register(off.Group("/scim/v2", principal))
	l := newLimiter(b, r, ratelimit.ClientOptions{Rate: 1_000_000, Burst: 1_000_000})
	on := gin.New()
	h.Register(on.Group("/scim/v2", principal, l.Middleware()))

	req := httptest.NewRequest(http.MethodPost, "/scim/v2/Users", strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench.user"}`))
	req.Header.Set("Content-Type", "application/scim+json")
	w := httptest.NewRecorder()
	off.ServeHTTP(w, req)
	var created struct{ ID string }
	if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil || w.Code != http.StatusCreated {
		b.Fatalf("seed user: %d %s", w.Code, w.Body)
	}
	path := "/scim/v2/Users/" + created.ID
	for _, bc := range []struct {
		name string
		e    *gin.Engine
	}{{"off", off}, {"on", on}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				bc.e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
				if w.Code != http.StatusOK {
					b.Fatalf("GET: %d %s", w.Code, w.Body)
				}
			}
		})
	}
}
