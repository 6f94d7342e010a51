package auth

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestAllows(t *testing.T) {
	users, groups, any := Operation{Resource: "Users"}, Operation{Resource: "Groups"}, Operation{}
	w := func(op Operation) Operation { op.Write = true; return op }
	all := Operation{Resource: "*"}
	cases := []struct {
		scopes []string
		op     Operation
		ok     bool
		needed string
	}{
		{[]string{ScopeSCIM}, w(users), true, ""},
		{[]string{ScopeSCIM}, w(all), true, ""},
		{[]string{ScopeAPIv3}, users, false, ScopeSCIMRead},
		{[]string{ScopeAPIv3, ScopeBCF}, w(groups), false, ScopeSCIMGroups},
		{[]string{ScopeSCIMRead}, users, true, ""},
		{[]string{ScopeSCIMRead}, all, true, ""},
		{[]string{ScopeSCIMRead}, w(users), false, ScopeSCIMUsers},
		{[]string{ScopeSCIMUsers}, w(users), true, ""},
		{[]string{ScopeSCIMUsers}, users, true, ""},
		{[]string{ScopeSCIMUsers}, groups, false, ScopeSCIMRead},
		{[]string{ScopeSCIMUsers}, w(groups), false, ScopeSCIMGroups},
		{[]string{ScopeSCIMUsers}, any, true, ""},             // discovery
		{[]string{ScopeSCIMUsers}, all, false, ScopeSCIMRead}, // root search spans groups
		{[]string{ScopeSCIMRead}, w(all), false, ScopeSCIM},
		{nil, any, false, ScopeSCIMRead},
	}
	for i, tc := range cases {
		ok, needed := Allows(tc.scopes, tc.op)
		if ok != tc.ok || needed != tc.needed {
			t.Errorf("%d: Allows(%v, %+v) = %v %q, want %v %q", i, tc.scopes, tc.op, ok, needed, tc.ok, tc.needed)
		}
	}
}

type fixedAuth struct {
	token string
	p     *Principal
}

func (f fixedAuth) Authenticate(_ context.Context, r Request) (*Principal, error) {
	if !strings.HasPrefix(r.Token, "fixed-") {
		return nil, ErrNotMine
	}
	if r.Token != f.token {
		return nil, Reject(MethodStaticToken, "c1", "hash mismatch")
	}
	return f.p, nil
}

func TestMiddlewareAndRequire(t *testing.T) {
	gin.SetMode(gin.TestMode)
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	chain := Chain{fixedAuth{token: "fixed-good", p: &Principal{ClientID: "c1", Scopes: []string{ScopeSCIMRead}}}}
	e := gin.New()
	g := e.Group("/scim", Middleware(chain, log, nil))
	g.GET("/Users", Require(Operation{Resource: "Users"}), func(c *gin.Context) {
		p, _ := FromContext(c.Request.Context())
		c.String(200, p.ClientID)
	})
	g.POST("/Users", Require(Operation{Resource: "Users", Write: true}), func(c *gin.Context) { c.Status(201) })

	do := func(method, authz string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/scim/Users", nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		return w
	}
	cases := []struct {
		method, authz string
		code          int
		www           string
	}{
		{"GET", "", 401, `Bearer realm="scimgate"`},
		{"GET", "Basic abc", 401, `Bearer realm="scimgate"`},
		{"GET", "Bearer fixed-bad", 401, `error="invalid_token"`},
		{"GET", "Bearer other-kind", 401, `error="invalid_token"`},
		{"GET", "bearer fixed-good", 200, ""},
		{"POST", "Bearer fixed-good", 403, `error="insufficient_scope", scope="scim_v2:users"`},
	}
	for _, tc := range cases {
		w := do(tc.method, tc.authz)
		if w.Code != tc.code || !strings.Contains(w.Header().Get("WWW-Authenticate"), tc.www) {
			t.Errorf("%s %q: %d %q", tc.method, tc.authz, w.Code, w.Header().Get("WWW-Authenticate"))
		}
		if tc.code >= 400 && !strings.Contains(w.Body.String(), `"status":"`) {
			t.Errorf("not a SCIM error body: %s", w.Body)
		}
	}
	if strings.Contains(logs.String(), "fixed-bad") {
		t.Fatalf("token in logs: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "hash mismatch") {
		t.Fatalf("reason not logged: %s", logs.String())
	}
}

func TestEmptyChainRefuses(t *testing.T) {
	_, err := Chain{}.Authenticate(context.Background(), Request{Token: "x"})
	if _, ok := err.(*Rejection); !ok {
		t.Fatalf("got %v", err)
	}
}

// ctxAuthenticator fails with its context's error, as a store lookup does
// when the request's context ends.
type ctxAuthenticator struct{}

func (ctxAuthenticator) Authenticate(ctx context.Context, _ Request) (*Principal, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("look up token: %w", ctx.Err())
}

// TestClientGoneDuringAuthentication: a client that goes away while its
// credential is looked up is logged at INFO as 499, not at ERROR as an
// unavailable authentication (found by the hostile-input test).
func TestClientGoneDuringAuthentication(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/scim", Middleware(ctxAuthenticator{}, log, nil), func(c *gin.Context) { c.Status(200) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("GET", "/scim", nil).WithContext(ctx)
	r.Header.Set("Authorization", "Bearer opst-whatever")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if w.Code != 499 || strings.Contains(buf.String(), "level=ERROR") {
		t.Fatalf("status %d, log:\n%s", w.Code, buf.String())
	}
}
