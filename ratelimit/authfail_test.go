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

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/server"
)

// refuser rejects every credential, naming client "c-known" for the token
// "known".
type refuser struct{ calls int }

func (r *refuser) Authenticate(_ context.Context, req auth.Request) (*auth.Principal, error) {
	r.calls++
	if req.Token == "good" {
		return &auth.Principal{ClientID: "c-good", Method: auth.MethodStaticToken}, nil
	}
	if req.Token == "known" {
		return nil, auth.Reject(auth.MethodStaticToken, "c-known", "token revoked (token id t1)")
	}
	return nil, auth.Reject(auth.MethodStaticToken, "", "unknown token")
}

func TestFailureGuardThrottlesAndRecords(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		if r.Mini != nil {
			r.Mini.SetTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
		}
		now := time.Now()
		events := audit.NewLog(r.Client, r.Prefix, 0)
		failures := audit.NewFailures(r.Client, r.Prefix, events, 0)
		g, err := ratelimit.NewFailureGuard(ratelimit.FailureOptions{Redis: r.Client, Prefix: r.Prefix, Max: 3, Window: time.Minute,
			Now: func() time.Time { return now }, Failures: failures, Route: audit.RouteSCIM})
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		authn := &refuser{}
		e := gin.New()
		e.Use(server.RequestID())
		e.GET("/scim/v2/Users", g.Wrap(auth.Middleware(authn, log, g.Observer())), func(c *gin.Context) { c.String(200, "ok") })
		send := func(tok, ip string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, "/scim/v2/Users", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set(server.RequestIDHeader, "req-"+tok)
			req.RemoteAddr = ip + ":40000"
			w := httptest.NewRecorder()
			e.ServeHTTP(w, req)
			return w
		}
		// Budget 3: three failures answer 401, the fourth exhausts it.
		for i := range 4 {
			tok := "bad"
			if i == 0 {
				tok = "known"
			}
			if w := send(tok, "192.0.2.7"); w.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i+1, w.Code)
			}
		}
		calls := authn.calls
		w := send("good", "192.0.2.7")
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"status":"429"`) {
			t.Fatalf("blocked address: %d %v %s", w.Code, w.Header(), w.Body)
		}
		if authn.calls != calls {
			t.Error("a blocked address was authenticated")
		}
		if w := send("good", "198.51.100.1"); w.Code != http.StatusOK {
			t.Errorf("another address: %d", w.Code)
		}

		if err := failures.Flush(context.Background(), now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		page, err := events.Query(context.Background(), audit.Query{Action: audit.AuthFailed})
		if err != nil {
			t.Fatal(err)
		}
		// Aggregates: the known client's failure, two unknown tokens, and
		// the failure that exhausted the budget (none for the 429).
		if len(page.Events) != 3 {
			t.Fatalf("%d AUTH_FAILED aggregates, want 3: %+v", len(page.Events), page.Events)
		}
		byReason := map[string]audit.Event{}
		for _, e := range page.Events {
			byReason[e.Reason] = e
		}
		known := byReason["token revoked (token id t1)"]
		if known.Actor.ClientID != "c-known" || known.Actor.AuthMethod != "static_token" || known.Target.ID != "c-known" ||
			known.SourceIP != "192.0.2.7" || known.Network != "192.0.2.7" || known.RequestID != "req-known" ||
			known.Outcome != audit.OutcomeFailure || known.Route != audit.RouteSCIM || known.Count != 1 {
			t.Errorf("known-client aggregate %+v", known)
		}
		if e := byReason["unknown token"]; e.Count != 2 || e.Actor.ClientID != "" || e.RequestID != "req-bad" {
			t.Errorf("unknown-token aggregate %+v", e)
		}
		if e := byReason["unknown token; source over its failure budget, now refused with 429"]; e.Count != 1 {
			t.Errorf("the exhausting failure is not its own aggregate: %+v", page.Events)
		}

		// The block ends locally when the budget has room again.
		now = now.Add(time.Minute)
		if _, blocked := g.Blocked("192.0.2.7", now); blocked {
			t.Error("address still blocked after its retry period")
		}
	})
}
