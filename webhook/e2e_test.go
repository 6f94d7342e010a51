package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/webhook"
)

// scimAuth lets every request act with the full SCIM scope.
type scimAuth struct{}

func (scimAuth) Authenticate(context.Context, auth.Request) (*auth.Principal, error) {
	return &auth.Principal{ClientID: "e2e", Method: auth.MethodStaticToken, Scopes: []string{auth.ScopeSCIM}}, nil
}

// arrival is one accepted webhook request, stamped when it arrived.
type arrival struct {
	ev webhook.Event
	at time.Time
}

// gateway is the SCIM HTTP handler on Redis plus a webhook worker posting
// to a local receiver that verifies every signature.
type gateway struct {
	t        *testing.T
	scim     *httptest.Server
	arrivals chan arrival
}

func newGateway(t *testing.T, r *redistest.Redis) *gateway {
	secret := []byte("e2e-secret-e2e-secret")
	g := &gateway{t: t, arrivals: make(chan arrival, 1000)}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(req.Body)
		if err := webhook.Verify(secret, req.Header.Get(webhook.HeaderSignature), req.Header.Get(webhook.HeaderTimestamp), body, time.Now(), time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		var ev webhook.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("body: %v", err)
		}
		w.WriteHeader(http.StatusNoContent)
		g.arrivals <- arrival{ev: ev, at: at}
	}))
	t.Cleanup(hook.Close)

	gin.SetMode(gin.TestMode)
	engine := gin.New()
	h := scimapi.New(schema.NewRegistry(), scimapi.Single(store.NewRedis(r.Client, r.Prefix)), scimapi.Options{})
	h.Register(engine.Group("/scim/v2", auth.Middleware(scimAuth{}, slog.New(slog.DiscardHandler), nil)))
	g.scim = httptest.NewServer(engine)
	t.Cleanup(g.scim.Close)

	sub, err := webhook.NewSubscriber(hook.URL + "/scim-events")
	if err != nil {
		t.Fatal(err)
	}
	w, err := webhook.New(r.Client, webhook.Options{Prefix: r.Prefix, Subscribers: []webhook.Subscriber{sub}, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); w.Wait() })
	return g
}

// do sends a SCIM request and returns the status and decoded body.
func (g *gateway) do(method, path string, body any) (int, map[string]any) {
	g.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, g.scim.URL+"/scim/v2"+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer e2e")
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (g *gateway) createUser(name string) string {
	g.t.Helper()
	code, body := g.do("POST", "/Users", map[string]any{
		"schemas": []string{schema.UserSchemaURN}, "userName": name, "active": true})
	if code != http.StatusCreated {
		g.t.Fatalf("create %s: %d %v", name, code, body)
	}
	return fmt.Sprint(body["id"])
}

func (g *gateway) deactivate(id string) {
	g.t.Helper()
	code, body := g.do("PATCH", "/Users/"+id, map[string]any{
		"schemas":    []string{scimapi.PatchOpURN},
		"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}},
	})
	if code != http.StatusOK {
		g.t.Fatalf("deactivate %s: %d %v", id, code, body)
	}
}

// await returns the next arrival of type typ for resource id, skipping others.
func (g *gateway) await(typ, id string) arrival {
	g.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case a := <-g.arrivals:
			if a.ev.Type == typ && a.ev.ID == id {
				return a
			}
		case <-deadline:
			g.t.Fatalf("no %s for %s within 10s", typ, id)
		}
	}
}

// TestDeactivationReachesWebhook: PATCH active=false through the SCIM
// handler reaches the subscriber as user.deactivated, with the user's new
// state and the audit event it belongs to, within 1s.
func TestDeactivationReachesWebhook(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		g := newGateway(t, r)
		id := g.createUser("leaver@example.com")
		g.await(scimapi.EventUserCreated, id)
		g.deactivate(id)
		done := time.Now()
		a := g.await(scimapi.EventUserDeactivated, id)
		if lat := a.at.Sub(done); lat > time.Second {
			t.Fatalf("deactivation reached the webhook after %s", lat)
		}
		var data map[string]any
		if err := json.Unmarshal(a.ev.Data, &data); err != nil || data["active"] != false || data["userName"] != "leaver@example.com" {
			t.Fatalf("data %s (%v)", a.ev.Data, err)
		}
		if a.ev.ResourceType != "User" || a.ev.AuditID == "" || a.ev.DeliveryID == "" || !strings.Contains(a.ev.DeliveryID, "-") {
			t.Fatalf("event %+v", a.ev)
		}
		if _, err := time.Parse(time.RFC3339, a.ev.Time); err != nil {
			t.Fatalf("time %q: %v", a.ev.Time, err)
		}
	})
}

// TestDeactivationLatency measures, over 100 runs on an otherwise idle
// system, the time from the PATCH active=false response to the webhook's
// receipt of user.deactivated, and logs the median and p95. Run it with
//
//	./scripts/test.sh -count=1 -run TestDeactivationLatency -v ./webhook/
//
// It asserts only a generous bound (each run under 1s, the issue's
// requirement); the figures are for reading.
func TestDeactivationLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("100 runs")
	}
	var mu sync.Mutex
	summary := map[string]string{}
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		g := newGateway(t, r)
		var fromResp, fromSend []time.Duration
		for i := range 100 {
			id := g.createUser(fmt.Sprintf("lat%d@example.com", i))
			g.await(scimapi.EventUserCreated, id) // idle before the PATCH
			sent := time.Now()
			g.deactivate(id)
			done := time.Now()
			a := g.await(scimapi.EventUserDeactivated, id)
			fromResp = append(fromResp, a.at.Sub(done))
			fromSend = append(fromSend, a.at.Sub(sent))
		}
		stats := func(d []time.Duration) (median, p95, worst time.Duration) {
			slices.Sort(d)
			return d[len(d)/2], d[len(d)*95/100], d[len(d)-1]
		}
		m, p, w := stats(fromResp)
		ms, ps, ws := stats(fromSend)
		t.Logf("PATCH active=false response -> webhook receipt, %d runs: median %s, p95 %s, max %s "+
			"(negative: the webhook had it before the client finished reading the response)", len(fromResp), m, p, w)
		t.Logf("PATCH active=false sent -> webhook receipt, %d runs: median %s, p95 %s, max %s", len(fromSend), ms, ps, ws)
		if w > time.Second {
			t.Fatalf("slowest deactivation took %s after the response to reach the webhook", w)
		}
		mu.Lock()
		summary[t.Name()] = fmt.Sprintf("after response: median %s p95 %s; after send: median %s p95 %s", m, p, ms, ps)
		mu.Unlock()
	})
	t.Logf("summary: %v", summary)
}
