package adminapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/server"
	"github.com/scimgate/scimgate/tokenstore"
)

const adminToken = "opadm-test-admin-token"

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type pinger struct{ r *redistest.Redis }

func (p pinger) Ping(ctx context.Context, _ time.Duration) error { return p.r.Client.Ping(ctx).Err() }

// env is a gateway with the admin API and a SCIM test route, all logging
// (debug level, JSON) into logs.
type env struct {
	t      *testing.T
	e      *gin.Engine
	logs   *syncBuf
	hasher auth.TokenHasher
	now    time.Time
}

func newEnv(t *testing.T, r *redistest.Redis, cred adminapi.Credential) *env {
	store, err := tokenstore.NewRedis(r.Client, tokenstore.Options{Prefix: r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	ev := &env{t: t, logs: &syncBuf{}, hasher: auth.NewTokenHasher("pepper"), now: time.Date(2030, 1, 15, 10, 0, 0, 0, time.UTC)}
	log := slog.New(slog.NewJSONHandler(ev.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := adminapi.NewService(store, ev.hasher, func() time.Time { return ev.now })
	ev.e = server.New(server.Options{Log: log, Redis: pinger{r}, ReadyTimeout: time.Second})
	adminapi.Mount(ev.e.Group(adminapi.Prefix), svc, cred, log)
	g := ev.e.Group("/scim/v2", auth.Middleware(auth.Chain{auth.NewStaticTokens(store, ev.hasher, 0)}, log, nil))
	g.GET("/Users", auth.Require(auth.Operation{Resource: "Users"}), func(c *gin.Context) { c.String(200, "users") })
	return ev
}

func mustCred(t *testing.T, plain, hash string) adminapi.Credential {
	c, err := adminapi.NewCredential(plain, hash)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// do sends a request with bearer token tok and decodes a JSON answer into out.
func (ev *env) do(method, path, tok, body string, out any) *httptest.ResponseRecorder {
	ev.t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	ev.e.ServeHTTP(w, r)
	if out != nil && w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			ev.t.Fatalf("%s %s: body %q: %v", method, path, w.Body, err)
		}
	}
	return w
}

func (ev *env) admin(method, path, body string, out any) *httptest.ResponseRecorder {
	ev.t.Helper()
	return ev.do(method, adminapi.Prefix+path, adminToken, body, out)
}

func expect(t *testing.T, what string, w *httptest.ResponseRecorder, code int, bodyHas string) {
	t.Helper()
	if w.Code != code || !strings.Contains(w.Body.String(), bodyHas) {
		t.Fatalf("%s: %d %s, want %d containing %q", what, w.Code, w.Body, code, bodyHas)
	}
}

func TestAdminAuthentication(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		none := newEnv(t, r, adminapi.Credential{})
		for _, tok := range []string{"", adminToken, "anything"} {
			expect(t, "no credential configured", none.do("GET", adminapi.Prefix+"/clients", tok, "", nil), 401, "")
		}

		sum := sha256.Sum256([]byte(adminToken))
		for name, cred := range map[string]adminapi.Credential{
			"plain": mustCred(t, adminToken, ""),
			"hash":  mustCred(t, "", hex.EncodeToString(sum[:])),
		} {
			ev := newEnv(t, r, cred)
			expect(t, name+": no token", ev.do("GET", adminapi.Prefix+"/clients", "", "", nil), 401, "")
			w := ev.do("GET", adminapi.Prefix+"/clients", "opadm-wrong", "", nil)
			expect(t, name+": wrong token", w, 401, "")
			if !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("challenge %q", w.Header().Get("WWW-Authenticate"))
			}
			expect(t, name+": admin token", ev.admin("GET", "/clients", "", nil), 200, `"clients"`)

			// A SCIM token never opens the admin API; the admin token never opens SCIM.
			var tok adminapi.TokenJSON
			ev.admin("POST", "/clients", `{"name":"idp-`+name+`"}`, nil)
			expect(t, "create token", ev.admin("POST", "/clients/idp-"+name+"/tokens", `{}`, &tok), 201, "opst-")
			expect(t, "SCIM token on SCIM", ev.do("GET", "/scim/v2/Users", tok.Token, "", nil), 200, "users")
			expect(t, "SCIM token on admin", ev.do("GET", adminapi.Prefix+"/clients", tok.Token, "", nil), 401, "")
			expect(t, "admin token on SCIM", ev.do("GET", "/scim/v2/Users", adminToken, "", nil), 401, "")
		}
		if _, err := adminapi.NewCredential("opst-looks-like-scim", ""); err == nil {
			t.Fatal("an opst- admin token was accepted")
		}
	})
}

func TestClientsAPI(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ev := newEnv(t, r, mustCred(t, adminToken, ""))
		var c adminapi.ClientJSON
		w := ev.admin("POST", "/clients", `{"name":"okta","provider":"Okta SSO"}`, &c)
		expect(t, "create", w, 201, `"method":"static_token"`)
		if w.Header().Get("Location") != adminapi.Prefix+"/clients/"+c.ID || !c.Enabled || c.Provider != "Okta SSO" {
			t.Fatalf("Location %q, client %+v", w.Header().Get("Location"), c)
		}
		expect(t, "duplicate name", ev.admin("POST", "/clients", `{"name":"OKTA"}`, nil), 409, `"field":"name"`)
		expect(t, "bad name", ev.admin("POST", "/clients", `{"name":"has space"}`, nil), 400, `"field":"name"`)
		expect(t, "empty name", ev.admin("POST", "/clients", `{}`, nil), 400, `"field":"name"`)
		expect(t, "bad method", ev.admin("POST", "/clients", `{"name":"x","method":"password"}`, nil), 400, `"field":"method"`)
		expect(t, "unknown field", ev.admin("POST", "/clients", `{"name":"x","colour":"red"}`, nil), 400, `"field":"colour"`)
		expect(t, "wrong type", ev.admin("POST", "/clients", `{"name":"x","enabled":"yes"}`, nil), 400, `"field":"enabled"`)
		expect(t, "not JSON", ev.admin("POST", "/clients", `nope`, nil), 400, `"field":"body"`)
		expect(t, "later method, no credential", ev.admin("POST", "/clients",
			`{"name":"kc","method":"idp_jwt","issuer":"https://kc.example.com/realms/r","subject":"sa","audience":"scimgate"}`, nil), 201, `"method":"idp_jwt"`)

		var list struct{ Clients []adminapi.ClientJSON }
		expect(t, "list", ev.admin("GET", "/clients", "", &list), 200, "")
		if len(list.Clients) != 2 || list.Clients[0].Name != "kc" || list.Clients[1].Name != "okta" {
			t.Fatalf("list %+v", list)
		}
		expect(t, "show by id", ev.admin("GET", "/clients/"+c.ID, "", nil), 200, `"name":"okta"`)
		expect(t, "show by name", ev.admin("GET", "/clients/okta", "", nil), 200, c.ID)
		expect(t, "show unknown", ev.admin("GET", "/clients/nope", "", nil), 404, "")
		expect(t, "disable", ev.admin("PATCH", "/clients/okta", `{"enabled":false,"name":"okta2"}`, nil), 200, `"enabled":false`)
		expect(t, "rename to taken", ev.admin("PATCH", "/clients/okta2", `{"name":"kc"}`, nil), 409, "")
		expect(t, "bad rename", ev.admin("PATCH", "/clients/okta2", `{"name":""}`, nil), 400, `"field":"name"`)
		expect(t, "delete", ev.admin("DELETE", "/clients/"+c.ID, "", nil), 204, "")
		expect(t, "delete again", ev.admin("DELETE", "/clients/"+c.ID, "", nil), 404, "")
	})
}

func TestTokensAPI(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ev := newEnv(t, r, mustCred(t, adminToken, ""))
		var c adminapi.ClientJSON
		ev.admin("POST", "/clients", `{"name":"entra"}`, &c)
		ev.admin("POST", "/clients", `{"name":"other"}`, nil)
		ev.admin("POST", "/clients", `{"name":"cc","method":"client_credentials"}`, nil)

		var tok adminapi.TokenJSON
		w := ev.admin("POST", "/clients/entra/tokens", `{"name":"prod","scopes":["scim_v2:read","api_v3"],"expires":"1m","allow_ips":["10.0.0.0/8","192.0.2.7"]}`, &tok)
		expect(t, "create", w, 201, `"token":"opst-`)
		if w.Header().Get("Location") != adminapi.Prefix+"/clients/"+c.ID+"/tokens/"+tok.ID || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("headers %v", w.Header())
		}
		if !tok.ExpiresAt.Equal(time.Date(2030, 2, 15, 10, 0, 0, 0, time.UTC)) || tok.Status != "active" ||
			strings.Join(tok.Scopes, ",") != "scim_v2:read,api_v3" || len(tok.AllowIPs) != 2 || tok.AllowIPs[1].String() != "192.0.2.7/32" {
			t.Fatalf("token %+v", tok)
		}
		var def adminapi.TokenJSON
		expect(t, "defaults", ev.admin("POST", "/clients/"+c.ID+"/tokens", `{}`, &def), 201, `"scopes":["scim_v2"]`)
		if !def.ExpiresAt.Equal(ev.now.AddDate(1, 0, 0)) {
			t.Fatalf("default validity: %v", def.ExpiresAt)
		}
		for _, v := range []struct {
			expires string
			want    time.Time
		}{{"1d", ev.now.Add(24 * time.Hour)}, {"7d", ev.now.Add(7 * 24 * time.Hour)}, {"30d", ev.now.Add(30 * 24 * time.Hour)}, {"1mo", ev.now.AddDate(0, 1, 0)}, {"3mo", ev.now.AddDate(0, 3, 0)}, {"3m", ev.now.AddDate(0, 3, 0)}, {"6mo", ev.now.AddDate(0, 6, 0)}, {"1y", ev.now.AddDate(1, 0, 0)}} {
			var got adminapi.TokenJSON
			ev.admin("POST", "/clients/entra/tokens", `{"expires":"`+v.expires+`"}`, &got)
			if !got.ExpiresAt.Equal(v.want) {
				t.Fatalf("%s: %v, want %v", v.expires, got.ExpiresAt, v.want)
			}
		}
		expect(t, "bad scope", ev.admin("POST", "/clients/entra/tokens", `{"scopes":["admin"]}`, nil), 400, `"field":"scopes"`)
		expect(t, "bad expires", ev.admin("POST", "/clients/entra/tokens", `{"expires":"2w"}`, nil), 400, `"field":"expires"`)
		expect(t, "bad allow_ips", ev.admin("POST", "/clients/entra/tokens", `{"allow_ips":["10.0.0.0/33"]}`, nil), 400, `"field":"allow_ips"`)
		expect(t, "unknown client", ev.admin("POST", "/clients/nope/tokens", `{}`, nil), 404, "")
		expect(t, "client_credentials client", ev.admin("POST", "/clients/cc/tokens", `{}`, nil), 409, "client_credentials")

		var list struct{ Tokens []adminapi.TokenJSON }
		w = ev.admin("GET", "/clients/entra/tokens", "", &list)
		expect(t, "list", w, 200, "")
		if len(list.Tokens) != 10 || strings.Contains(w.Body.String(), `"token"`) || strings.Contains(w.Body.String(), tok.Token[:20]) {
			t.Fatalf("list: %d tokens, want 10 and no plain token: %s", len(list.Tokens), w.Body)
		}
		// Only the prefix and last four characters identify a token.
		for _, x := range list.Tokens {
			if x.ID == tok.ID && x.Hint != "opst-…"+tok.Token[len(tok.Token)-4:] || !strings.HasPrefix(x.Hint, "opst-…") || len([]rune(x.Hint)) != 10 {
				t.Fatalf("hint %q of token %s", x.Hint, x.ID)
			}
		}
		path := "/clients/entra/tokens/" + tok.ID
		expect(t, "show", ev.admin("GET", path, "", nil), 200, `"status":"active"`)
		expect(t, "revoke through another client", ev.admin("DELETE", "/clients/other/tokens/"+tok.ID, "", nil), 404, "")
		var rev adminapi.TokenJSON
		expect(t, "revoke", ev.admin("DELETE", path, "", &rev), 200, `"status":"revoked"`)
		if rev.RevokedAt == nil || !rev.RevokedAt.Equal(ev.now) {
			t.Fatalf("revoked_at %v", rev.RevokedAt)
		}
		expect(t, "revoke via POST", ev.admin("POST", "/clients/entra/tokens/"+def.ID+"/revoke", "", nil), 200, `"status":"revoked"`)
		expect(t, "revoke unknown", ev.admin("POST", "/clients/entra/tokens/nope/revoke", "", nil), 404, "")
		ev.now = ev.now.Add(400 * 24 * time.Hour)
		expect(t, "expired status", ev.admin("GET", "/clients/entra/tokens/"+def.ID, "", nil), 200, `"status":"revoked"`)
		var l2 struct{ Tokens []adminapi.TokenJSON }
		ev.admin("GET", "/clients/entra/tokens", "", &l2)
		var expired int
		for _, tk := range l2.Tokens {
			if tk.Status == "expired" {
				expired++
			}
		}
		if expired != 8 {
			t.Fatalf("%d expired tokens after 400 days, want 8", expired)
		}
	})
}

// TestNoSecretInLogs captures every log line (debug level, access log
// included) through create → use → revoke → refused use.
func TestNoSecretInLogs(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ev := newEnv(t, r, mustCred(t, adminToken, ""))
		ev.admin("POST", "/clients", `{"name":"okta"}`, nil)
		var tok adminapi.TokenJSON
		expect(t, "create", ev.admin("POST", "/clients/okta/tokens", `{}`, &tok), 201, "opst-")
		expect(t, "use", ev.do("GET", "/scim/v2/Users", tok.Token, "", nil), 200, "")
		expect(t, "revoke", ev.admin("DELETE", "/clients/okta/tokens/"+tok.ID, "", nil), 200, "")
		expect(t, "refused", ev.do("GET", "/scim/v2/Users", tok.Token, "", nil), 401, "")
		expect(t, "bad admin", ev.do("GET", adminapi.Prefix+"/clients", tok.Token, "", nil), 401, "")

		logs := ev.logs.String()
		if !strings.Contains(logs, "token revoked") || !strings.Contains(logs, tok.ID) {
			t.Fatalf("the log should name the reason and token id: %s", logs)
		}
		plainSum := sha256.Sum256([]byte(tok.Token))
		adminSum := sha256.Sum256([]byte(adminToken))
		for name, secret := range map[string]string{
			"token": tok.Token, "token body": strings.TrimPrefix(tok.Token, "opst-")[:20],
			"hmac": ev.hasher.Hash(tok.Token), "sha256": hex.EncodeToString(plainSum[:]),
			"admin token": adminToken, "admin hash": hex.EncodeToString(adminSum[:]), "header": "Authorization",
		} {
			if strings.Contains(logs, secret) {
				t.Errorf("%s appears in the logs", name)
			}
		}
	})
}
