package adminapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/server"
	"github.com/scimgate/scimgate/tokenstore"
)

// auditEnv is the admin API with the audit trail, the audit route and the
// credential report, on a settable clock.
type auditEnv struct {
	t      *testing.T
	e      *gin.Engine
	svc    *adminapi.Service
	store  *tokenstore.Redis
	events *audit.Log
	hasher auth.TokenHasher
	now    time.Time
	reqs   int
}

func newAuditEnv(t *testing.T, r *redistest.Redis) *auditEnv {
	store, err := tokenstore.NewRedis(r.Client, tokenstore.Options{Prefix: r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	ev := &auditEnv{t: t, store: store, hasher: auth.NewTokenHasher("pepper"), now: time.Date(2030, 1, 15, 10, 0, 0, 0, time.UTC)}
	log := slog.New(slog.DiscardHandler)
	ev.events = audit.NewLog(r.Client, r.Prefix, 0)
	ev.svc = adminapi.NewService(store, ev.hasher, func() time.Time { return ev.now })
	ev.svc.SetAudit(ev.events, log)
	ev.svc.SetSecretCost(4)
	ev.e = gin.New()
	ev.e.Use(server.RequestID())
	g := ev.e.Group(adminapi.Prefix)
	adminapi.Mount(g, ev.svc, mustCred(t, adminToken, ""), log)
	adminapi.MountAudit(g, ev.events, func() time.Time { return time.Now() }, log)
	adminapi.MountReports(g, ev.svc)
	return ev
}

// call sends an admin request and returns the recorder; the request id is
// "req-<n>".
func (ev *auditEnv) call(method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	ev.t.Helper()
	ev.reqs++
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+adminToken)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(server.RequestIDHeader, "req-"+itoa(ev.reqs))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	r.RemoteAddr = "203.0.113.9:5555"
	w := httptest.NewRecorder()
	ev.e.ServeHTTP(w, r)
	return w
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func (ev *auditEnv) all() []audit.Event {
	ev.t.Helper()
	p, err := ev.events.Query(context.Background(), audit.Query{Limit: 1000})
	if err != nil {
		ev.t.Fatal(err)
	}
	return p.Events
}

func TestCredentialEventsAudited(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ev := newAuditEnv(t, r)
		base := adminapi.Prefix + "/clients"
		steps := []struct {
			method, path, body string
			status             int
			action             string // "" = the step must record nothing
			changed            []string
		}{
			{"POST", base, `{"name":"okta","provider":"Okta"}`, 201, audit.ClientCreated, []string{"enabled", "method", "name", "provider"}},
			{"POST", base, `{"name":"okta"}`, 409, "", nil},
			{"PATCH", base + "/okta", `{"rate_limit":"50/s","burst":80}`, 200, audit.ClientUpdated, []string{"rate_limit"}},
			{"PATCH", base + "/okta", `{"rate_limit":"fast"}`, 400, "", nil},
			{"PATCH", base + "/nobody", `{"enabled":false}`, 404, "", nil},
			{"POST", base + "/okta/tokens", `{"name":"t1","expires":"7d"}`, 201, audit.TokenCreated, []string{"client_id", "expires_at", "name", "scopes"}},
			{"POST", base + "/okta/tokens", `{"scopes":["root"]}`, 400, "", nil},
			{"POST", base, `{"name":"m2m","method":"client_credentials"}`, 201, audit.ClientCreated, []string{"allowed_scopes", "enabled", "method", "name", "secret"}},
			{"POST", base + "/m2m/rotate-secret", ``, 200, audit.SecretRotated, []string{"secret"}},
			{"POST", base + "/okta/rotate-secret", ``, 409, "", nil},
		}
		var plain []string
		want := 0
		for i, s := range steps {
			w := ev.call(s.method, s.path, s.body)
			if w.Code != s.status {
				t.Fatalf("step %d %s %s: %d %s", i, s.method, s.path, w.Code, w.Body)
			}
			var out map[string]any
			_ = json.Unmarshal(w.Body.Bytes(), &out)
			for _, k := range []string{"token", "client_secret"} {
				if v, ok := out[k].(string); ok {
					plain = append(plain, v)
				}
			}
			got := ev.all()
			if s.action == "" {
				if len(got) != want {
					t.Fatalf("step %d (failed action) recorded %d events", i, len(got)-want)
				}
				continue
			}
			want++
			if len(got) != want {
				t.Fatalf("step %d: %d events, want %d", i, len(got), want)
			}
			e := got[want-1]
			if e.Action != s.action || e.Outcome != audit.OutcomeSuccess || e.Actor.AuthMethod != "admin" ||
				e.Actor.CredentialID != "admin_token" || e.RequestID != "req-"+itoa(i+1) || e.SourceIP != "203.0.113.9" ||
				!e.Time.Equal(ev.now) || e.Target.ID == "" {
				t.Errorf("step %d: event %+v", i, e)
			}
			if strings.Join(e.Changed, ",") != strings.Join(s.changed, ",") {
				t.Errorf("step %d: changed %v, want %v", i, e.Changed, s.changed)
			}
		}
		// Revoke once records; revoking again does not.
		toks, _ := ev.svc.ListTokens(context.Background(), "okta")
		for range 2 {
			if w := ev.call("POST", base+"/okta/tokens/"+toks[0].ID+"/revoke", ""); w.Code != 200 {
				t.Fatalf("revoke: %d", w.Code)
			}
		}
		if w := ev.call("DELETE", base+"/okta", ""); w.Code != 204 {
			t.Fatalf("delete: %d", w.Code)
		}
		got := ev.all()
		var tail []string
		for _, e := range got[want:] {
			tail = append(tail, e.Action+":"+e.Target.Type)
		}
		if strings.Join(tail, ",") != "TOKEN_REVOKED:Token,CLIENT_DELETED:Client" {
			t.Errorf("revoke twice + delete recorded %v", tail)
		}
		raw, _ := json.Marshal(got)
		for _, p := range plain {
			if p == "" || strings.Contains(string(raw), p) {
				t.Errorf("a secret reached the audit trail (or was empty): %q", p)
			}
		}
		if strings.Contains(string(raw), "$2a$") {
			t.Error("a bcrypt hash reached the audit trail")
		}
	})
}

func TestAuditAPI(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ev := newAuditEnv(t, r)
		for _, n := range []string{"a", "b", "c"} {
			if w := ev.call("POST", adminapi.Prefix+"/clients", `{"name":"`+n+`"}`); w.Code != 201 {
				t.Fatal(w.Body)
			}
			if w := ev.call("POST", adminapi.Prefix+"/clients/"+n+"/tokens", `{}`); w.Code != 201 {
				t.Fatal(w.Body)
			}
		}
		ctx := context.Background()
		_ = ev.events.Append(ctx, audit.Event{Action: audit.AuthFailed, Actor: audit.Actor{ClientID: "cx"}, Outcome: audit.OutcomeFailure})

		type page struct {
			Events []audit.Event `json:"events"`
			Next   string        `json:"next_cursor"`
		}
		get := func(q string, hdr ...string) (page, *httptest.ResponseRecorder) {
			t.Helper()
			w := ev.call("GET", adminapi.Prefix+"/audit"+q, "", hdr...)
			var p page
			if w.Code == 200 && !strings.Contains(w.Header().Get("Content-Type"), "ndjson") {
				if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
					t.Fatal(err)
				}
			}
			return p, w
		}
		if p, _ := get(""); len(p.Events) != 7 {
			t.Fatalf("all: %d events", len(p.Events))
		}
		if p, _ := get("?action=token_created"); len(p.Events) != 3 || p.Events[0].Action != audit.TokenCreated {
			t.Errorf("action filter: %+v", p.Events)
		}
		if p, _ := get("?target=B"); len(p.Events) != 1 || p.Events[0].Target.Name != "b" {
			t.Errorf("target filter (by name, case-insensitive): %+v", p.Events)
		}
		if p, _ := get("?client=cx"); len(p.Events) != 1 || p.Events[0].Action != audit.AuthFailed {
			t.Errorf("client filter: %+v", p.Events)
		}
		if p, _ := get("?since=2999-01-01T00:00:00Z"); len(p.Events) != 0 {
			t.Errorf("since in the future: %d events", len(p.Events))
		}
		if p, _ := get("?since=1h&until=" + time.Now().Add(time.Minute).UTC().Format(time.RFC3339)); len(p.Events) != 7 {
			t.Errorf("since 1h: %d events", len(p.Events))
		}
		// Cursor paging visits every event once, in order.
		var seen []string
		cursor := ""
		for range 10 {
			p, w := get("?limit=3&cursor=" + cursor)
			if w.Code != 200 {
				t.Fatal(w.Body)
			}
			for _, e := range p.Events {
				seen = append(seen, e.ID)
			}
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		all, _ := get("")
		if len(seen) != 7 || seen[0] != all.Events[0].ID || seen[6] != all.Events[6].ID {
			t.Errorf("paging saw %v", seen)
		}
		// NDJSON by Accept and by format, with the next cursor in a header.
		for _, hdr := range [][]string{{"Accept", adminapi.NDJSON}, nil} {
			q := "?limit=2"
			if hdr == nil {
				q += "&format=ndjson"
			}
			_, w := get(q, hdr...)
			if w.Code != 200 || w.Header().Get("Content-Type") != adminapi.NDJSON || w.Header().Get(adminapi.NextCursorHeader) == "" {
				t.Fatalf("ndjson: %d %v", w.Code, w.Header())
			}
			lines := 0
			sc := bufio.NewScanner(w.Body)
			for sc.Scan() {
				var e audit.Event
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
					t.Errorf("ndjson line %q: %v", sc.Text(), err)
				}
				lines++
			}
			if lines != 2 {
				t.Errorf("ndjson: %d lines, want 2", lines)
			}
		}
		for _, q := range []string{"?cursor=nope", "?limit=0", "?since=yesterday", "?since=2h&until=3h"} {
			if _, w := get(q); w.Code != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", q, w.Code)
			}
		}
		w := httptest.NewRecorder()
		ev.e.ServeHTTP(w, httptest.NewRequest("GET", adminapi.Prefix+"/audit", nil))
		if w.Code != http.StatusUnauthorized {
			t.Errorf("audit without admin credential: %d", w.Code)
		}
	})
}
