package scimapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/server"
)

// testAuth injects a principal whose scopes are the bearer token itself
// (comma-separated), so tests can act with any scope set.
type testAuth struct{}

func (testAuth) Authenticate(_ context.Context, r auth.Request) (*auth.Principal, error) {
	return &auth.Principal{ClientID: "test", Method: auth.MethodStaticToken, Scopes: strings.Split(r.Token, ",")}, nil
}

type env struct {
	t      *testing.T
	engine *gin.Engine
	compat map[string]int
	mu     sync.Mutex
	token  string
	redis  *redistest.Redis
}

func newEnv(t *testing.T, r *redistest.Redis, strict bool) *env {
	return newEnvWith(t, r, func(o *scimapi.Options) { o.Strict = strict })
}

func newEnvWith(t *testing.T, r *redistest.Redis, configure func(*scimapi.Options)) *env {
	return newEnvStore(t, r, store.NewRedis(r.Client, r.Prefix), configure)
}

// newEnvStore is newEnvWith serving from st (on r).
func newEnvStore(t *testing.T, r *redistest.Redis, st store.Store, configure func(*scimapi.Options)) *env {
	gin.SetMode(gin.TestMode)
	e := &env{t: t, engine: gin.New(), compat: map[string]int{}, token: auth.ScopeSCIM, redis: r}
	e.engine.RedirectTrailingSlash = false
	e.engine.Use(server.RequestID())
	opts := scimapi.Options{
		MaxBodyBytes: 64 << 10, MaxResults: 50,
		OnCompat: func(rule string) { e.mu.Lock(); e.compat[rule]++; e.mu.Unlock() },
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	configure(&opts)
	reg := schema.NewRegistry()
	if opts.Roles.Enabled() {
		reg.AddUserExtension(schema.RoleExtension(), false)
	}
	h := scimapi.New(reg, scimapi.Single(st), opts)
	mw := auth.Middleware(testAuth{}, slog.New(slog.DiscardHandler), nil)
	h.Register(e.engine.Group("/scim/v2", mw))
	h.Register(e.engine.Group("/scim_v2", mw))
	return e
}

type resp struct {
	code int
	hdr  http.Header
	body map[string]any
	raw  string
}

func (e *env) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", "Bearer "+e.token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.engine.ServeHTTP(w, req)
	r := resp{code: w.Code, hdr: w.Header(), raw: w.Body.String()}
	if w.Body.Len() > 0 {
		_ = json.Unmarshal(w.Body.Bytes(), &r.body)
	}
	return r
}

func (e *env) must(r resp, code int) resp {
	e.t.Helper()
	if r.code != code {
		e.t.Fatalf("status %d, want %d: %s", r.code, code, r.raw)
	}
	return r
}

func wantError(t *testing.T, r resp, code int, scimType string) {
	t.Helper()
	if r.code != code || r.body["status"] != fmt.Sprint(code) || (scimType != "" && r.body["scimType"] != scimType) {
		t.Fatalf("want %d %s, got %d %s", code, scimType, r.code, r.raw)
	}
	if ct := r.hdr.Get("Content-Type"); ct != scimapi.MediaType {
		t.Fatalf("error content-type %q", ct)
	}
}

func str(v any) string { s, _ := v.(string); return s }

func get(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, _ := v.(map[string]any)
		v = mm[p]
	}
	return v
}

// entraUser is the create request Microsoft Entra sends (idp-behaviour.md).
func entraUser(userName, externalID string) map[string]any {
	return map[string]any{
		"schemas":                []string{schema.UserSchemaURN, schema.EnterpriseUserURN},
		"externalId":             externalID,
		"userName":               userName,
		"active":                 true,
		"emails":                 []any{map[string]any{"primary": true, "type": "work", "value": userName}},
		"meta":                   map[string]any{"resourceType": "User"},
		"name":                   map[string]any{"formatted": "Ada L", "familyName": "Lovelace", "givenName": "Ada"},
		"roles":                  []any{},
		"password":               "hunter2!",
		schema.EnterpriseUserURN: map[string]any{"department": "R&D"},
	}
}

func TestSCIM(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		tests := map[string]func(*testing.T, *env){
			"UserLifecycle":       testUserLifecycle,
			"EntraPatchShapes":    testEntraPatch,
			"ETags":               testETags,
			"GroupMembers":        testGroupMembers,
			"ListAndFilter":       testListAndFilter,
			"FilterAliasedText":   testFilterAliasedText,
			"Paging":              testPaging,
			"BadInput":            testBadInput,
			"Discovery":           testDiscovery,
			"Projection":          testProjection,
			"ConcurrentCreate":    testConcurrentCreate,
			"ConcurrentMemberAdd": testConcurrentMemberAdd,
			"Scopes":              testScopes,
			"AuditAndEvents":      testAuditAndEvents,
			"Bulk":                testBulk,
		}
		for name, fn := range tests {
			t.Run(name, func(t *testing.T) {
				sub := *r
				sub.Prefix = r.Prefix + name + ":"
				fn(t, newEnv(t, &sub, false))
			})
		}
		t.Run("RoleMapping", func(t *testing.T) {
			sub := *r
			sub.Prefix = r.Prefix + "roles:"
			testRoleMapping(t, &sub)
		})
		t.Run("Strict", func(t *testing.T) {
			sub := *r
			sub.Prefix = r.Prefix + "strict:"
			testStrict(t, newEnv(t, &sub, true))
		})
	})
}

func testUserLifecycle(t *testing.T, e *env) {
	cr := e.must(e.do("POST", "/scim/v2/Users", entraUser("ada@example.com", "e-1")), 201)
	id := str(cr.body["id"])
	if cr.hdr.Get("Location") != "http://example.com/scim/v2/Users/"+id || cr.hdr.Get("ETag") != `W/"1"` {
		t.Fatalf("Location %q ETag %q", cr.hdr.Get("Location"), cr.hdr.Get("ETag"))
	}
	if cr.hdr.Get("Content-Type") != scimapi.MediaType {
		t.Fatalf("content-type %q", cr.hdr.Get("Content-Type"))
	}
	if cr.body["password"] != nil {
		t.Fatal("password returned (RFC 7643 §4.1.1: returned never)")
	}
	if get(cr.body, "meta", "resourceType") != "User" || get(cr.body, "meta", "version") != `W/"1"` || get(cr.body, "meta", "location") == nil || get(cr.body, "meta", "created") == nil {
		t.Fatalf("meta %v", cr.body["meta"])
	}
	if get(cr.body, schema.EnterpriseUserURN, "department") != "R&D" {
		t.Fatalf("extension lost: %v", cr.raw)
	}
	// Okta checks that a second create in another case is a 409.
	wantError(t, e.do("POST", "/scim/v2/Users", entraUser("ADA@example.com", "e-2")), 409, "uniqueness")
	// externalId is not unique (RFC 7643 §3.1; see TestExternalIdNotUnique).
	e.must(e.do("POST", "/scim/v2/Users", entraUser("other@example.com", "e-1")), 201)

	got := e.must(e.do("GET", "/scim/v2/Users/"+id, nil), 200)
	if got.body["userName"] != "ada@example.com" || got.body["password"] != nil {
		t.Fatalf("get %s", got.raw)
	}
	// Same resource under the /scim_v2 mount, with its own location.
	alt := e.must(e.do("GET", "/scim_v2/Users/"+id, nil), 200)
	if !strings.Contains(str(get(alt.body, "meta", "location")), "/scim_v2/Users/") {
		t.Fatalf("location under /scim_v2: %v", get(alt.body, "meta", "location"))
	}

	// PUT replaces: omitted attributes are cleared (Okta profile updates).
	put := map[string]any{"schemas": []string{schema.UserSchemaURN}, "userName": "ada@example.com", "displayName": "Ada", "active": true, "externalId": "e-1"}
	pr := e.must(e.do("PUT", "/scim/v2/Users/"+id, put), 200)
	if pr.body["name"] != nil || pr.body["displayName"] != "Ada" || pr.hdr.Get("ETag") != `W/"2"` {
		t.Fatalf("put %s", pr.raw)
	}
	e.must(e.do("DELETE", "/scim/v2/Users/"+id, nil), 204)
	wantError(t, e.do("GET", "/scim/v2/Users/"+id, nil), 404, "")
	wantError(t, e.do("DELETE", "/scim/v2/Users/"+id, nil), 404, "")
	// The userName is free again.
	e.must(e.do("POST", "/scim/v2/Users", entraUser("ada@example.com", "e-1")), 201)
}

func patchBody(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{scimapi.PatchOpURN}, "Operations": ops}
}

func testEntraPatch(t *testing.T, e *env) {
	id := str(e.must(e.do("POST", "/scim/v2/Users", entraUser("pat@example.com", "p-1")), 201).body["id"])
	// Capitalised op and a string boolean (Entra deprovisioning).
	r := e.must(e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "Replace", "path": "active", "value": "False"})), 200)
	if r.body["active"] != false {
		t.Fatalf("active %v", r.body["active"])
	}
	if e.compat["op_case"] == 0 || e.compat["string_boolean"] == 0 {
		t.Fatalf("compat rules not counted: %v", e.compat)
	}
	// Path-less replace with dotted and URN keys.
	r = e.must(e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "replace", "value": map[string]any{
		"name.givenName": "Augusta", schema.EnterpriseUserURN + ":employeeNumber": "42",
	}})), 200)
	if get(r.body, "name", "givenName") != "Augusta" || get(r.body, schema.EnterpriseUserURN, "employeeNumber") != "42" || get(r.body, "name", "familyName") != "Lovelace" {
		t.Fatalf("path-less replace: %s", r.raw)
	}
	// Add through a filter that matches nothing creates the element.
	r = e.must(e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "Add", "path": `phoneNumbers[type eq "mobile"].value`, "value": "+1 555"})), 200)
	if phones, _ := r.body["phoneNumbers"].([]any); len(phones) != 1 || get(phones[0].(map[string]any), "type") != "mobile" {
		t.Fatalf("filter upsert: %v", r.body["phoneNumbers"])
	}
	// A PATCH that changes nothing keeps meta.version (RFC 7644 §3.14).
	before := r.hdr.Get("ETag")
	r = e.must(e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "replace", "path": "active", "value": false})), 200)
	if r.hdr.Get("ETag") != before {
		t.Fatalf("no-op PATCH changed version %s -> %s", before, r.hdr.Get("ETag"))
	}
	// Okta deactivation.
	e.must(e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "replace", "value": map[string]any{"active": true}})), 200)
	wantError(t, e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "replace", "path": "nosuch", "value": 1})), 400, "invalidPath")
	wantError(t, e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "remove", "path": `emails[type eq "home"]`})), 400, "noTarget")
	wantError(t, e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "explode", "path": "title"})), 400, "invalidSyntax")
	// Changing userName to a taken one is a 409 and changes nothing.
	e.must(e.do("POST", "/scim/v2/Users", entraUser("taken@example.com", "p-2")), 201)
	wantError(t, e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "replace", "path": "userName", "value": "Taken@Example.com"})), 409, "uniqueness")
	if g := e.must(e.do("GET", "/scim/v2/Users/"+id, nil), 200); g.body["userName"] != "pat@example.com" {
		t.Fatalf("failed PATCH changed userName: %v", g.body["userName"])
	}
}

func testETags(t *testing.T, e *env) {
	id := str(e.must(e.do("POST", "/scim/v2/Users", entraUser("tag@example.com", "t-1")), 201).body["id"])
	e.must(e.do("GET", "/scim/v2/Users/"+id, nil, "If-None-Match", `W/"1"`), 304)
	e.must(e.do("GET", "/scim/v2/Users/"+id, nil, "If-None-Match", `W/"9"`), 200)
	body := map[string]any{"userName": "tag@example.com"}
	wantError(t, e.do("PUT", "/scim/v2/Users/"+id, body, "If-Match", `W/"7"`), 412, "")
	e.must(e.do("PUT", "/scim/v2/Users/"+id, body, "If-Match", `W/"1"`), 200)
	wantError(t, e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "add", "path": "title", "value": "x"}), "If-Match", `W/"1"`), 412, "")
	wantError(t, e.do("DELETE", "/scim/v2/Users/"+id, nil, "If-Match", `W/"1"`), 412, "")
	e.must(e.do("DELETE", "/scim/v2/Users/"+id, nil, "If-Match", `W/"2"`), 204)
}

func memberValues(t *testing.T, e *env, gid string) []string {
	t.Helper()
	g := e.must(e.do("GET", "/scim/v2/Groups/"+gid, nil), 200)
	var out []string
	ms, _ := g.body["members"].([]any)
	for _, m := range ms {
		out = append(out, str(m.(map[string]any)["value"]))
	}
	return out
}

func testGroupMembers(t *testing.T, e *env) {
	var users []string
	for i := 0; i < 4; i++ {
		users = append(users, str(e.must(e.do("POST", "/scim/v2/Users", map[string]any{"userName": fmt.Sprintf("m%d", i)}), 201).body["id"]))
	}
	// Entra creates groups empty, with an extra Microsoft schema URI.
	g := e.must(e.do("POST", "/scim/v2/Groups", map[string]any{
		"schemas":     []string{schema.GroupSchemaURN, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"},
		"displayName": "Engineering", "externalId": "g-ext", "members": []any{},
	}), 201)
	gid := str(g.body["id"])
	wantError(t, e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "Bad", "members": []any{map[string]any{"value": "ghost"}}}), 400, "invalidValue")

	add := patchBody(map[string]any{"op": "Add", "path": "members", "value": []any{
		map[string]any{"value": users[0], "$ref": nil}, map[string]any{"value": users[1]}, map[string]any{"value": users[2]},
	}})
	r := e.must(e.do("PATCH", "/scim/v2/Groups/"+gid, add), 204)
	if r.hdr.Get("ETag") != `W/"2"` {
		t.Fatalf("etag after add %q", r.hdr.Get("ETag"))
	}
	if got := memberValues(t, e, gid); len(got) != 3 {
		t.Fatalf("members %v", got)
	}
	// The user's groups attribute is derived from membership.
	u := e.must(e.do("GET", "/scim/v2/Users/"+users[0], nil), 200)
	if gs, _ := u.body["groups"].([]any); len(gs) != 1 || get(gs[0].(map[string]any), "display") != "Engineering" {
		t.Fatalf("user groups %v", u.body["groups"])
	}
	// Entra: remove with a value list removes only those members.
	e.must(e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "Remove", "path": "members", "value": []any{map[string]any{"value": users[0]}}})), 204)
	if got := memberValues(t, e, gid); len(got) != 2 {
		t.Fatalf("Entra remove removed %v", got)
	}
	if e.compat["remove_members_by_value"] == 0 {
		t.Fatal("remove_members_by_value not counted")
	}
	// Filtered remove; a second one matches nothing: noTarget (RFC 7644 §3.5.2.2).
	rm := patchBody(map[string]any{"op": "remove", "path": fmt.Sprintf(`members[value eq "%s"]`, users[1])})
	e.must(e.do("PATCH", "/scim/v2/Groups/"+gid, rm), 204)
	wantError(t, e.do("PATCH", "/scim/v2/Groups/"+gid, rm), 400, "noTarget")
	// Add of a missing user is invalidValue and changes nothing.
	wantError(t, e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": users[3]}, map[string]any{"value": "ghost"}}})), 400, "invalidValue")
	if got := memberValues(t, e, gid); len(got) != 1 || got[0] != users[2] {
		t.Fatalf("after failed add: %v", got)
	}
	// Okta group push: rename path-less (id silently ignored), then empty.
	e.must(e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": "Eng"}})), 204)
	e.must(e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "replace", "path": "members", "value": []any{}})), 204)
	gr := e.must(e.do("GET", "/scim/v2/Groups/"+gid, nil), 200)
	if gr.body["displayName"] != "Eng" || gr.body["members"] != nil {
		t.Fatalf("after Okta push: %s", gr.raw)
	}
	// A PATCH with an attributes parameter returns the resource.
	r = e.must(e.do("PATCH", "/scim/v2/Groups/"+gid+"?attributes=members", patchBody(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": users[3]}}})), 200)
	if ms, _ := r.body["members"].([]any); len(ms) != 1 || r.body["displayName"] != nil {
		t.Fatalf("PATCH with attributes: %s", r.raw)
	}
	// Generic path through a member filter on another attribute.
	e.must(e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "remove", "path": `members[type eq "User"]`})), 204)
	if got := memberValues(t, e, gid); len(got) != 0 {
		t.Fatalf("generic member remove: %v", got)
	}
	// PUT replaces members; deleting a user removes it from groups.
	e.must(e.do("PUT", "/scim/v2/Groups/"+gid, map[string]any{"displayName": "Eng", "members": []any{map[string]any{"value": users[2]}, map[string]any{"value": users[3]}}}), 200)
	e.must(e.do("DELETE", "/scim/v2/Users/"+users[2], nil), 204)
	if got := memberValues(t, e, gid); len(got) != 1 || got[0] != users[3] {
		t.Fatalf("after user delete: %v", got)
	}
	// Filters on the derived attributes scan with them loaded.
	if l := e.must(e.do("GET", "/scim/v2/Users?filter="+urlq(fmt.Sprintf(`groups.value eq "%s"`, gid)), nil), 200); l.body["totalResults"] != float64(1) {
		t.Fatalf("users by group: %s", l.raw)
	}
	if l := e.must(e.do("GET", "/scim/v2/Groups?filter="+urlq(fmt.Sprintf(`members[value eq "%s"]`, users[3])), nil), 200); l.body["totalResults"] != float64(1) {
		t.Fatalf("groups by member: %s", l.raw)
	}
	// Entra looks groups up by displayName without members.
	l := e.must(e.do("GET", `/scim/v2/Groups?excludedAttributes=members&filter=displayName+eq+%22eng%22`, nil), 200)
	if l.body["totalResults"] != float64(1) {
		t.Fatalf("group lookup: %s", l.raw)
	}
	if res := l.body["Resources"].([]any)[0].(map[string]any); res["members"] != nil {
		t.Fatalf("excludedAttributes=members ignored: %v", res)
	}
}

func list(t *testing.T, e *env, query string) resp {
	t.Helper()
	return e.must(e.do("GET", "/scim/v2/Users?"+query, nil), 200)
}

func userNames(r resp) []string {
	var out []string
	rs, _ := r.body["Resources"].([]any)
	for _, x := range rs {
		out = append(out, str(x.(map[string]any)["userName"]))
	}
	return out
}

// testFilterAliasedText: filters whose literals equal, or lie inside,
// strings a compact stored document aliases (store.compactDoc) match as
// on the JSON itself, also where the raw document scan judges them (no
// escapes in these documents, so it does).
func testFilterAliasedText(t *testing.T, e *env) {
	for i, u := range []map[string]any{
		{"title": "work", "emails": []any{map[string]any{"type": "work", "value": "fa0@example.com"}},
			"schemas": []any{schema.UserSchemaURN, schema.EnterpriseUserURN}, schema.EnterpriseUserURN: map[string]any{"department": "Sales"}},
		{"title": "Workplace", "emails": []any{map[string]any{"type": "home", "value": "fa1@example.com"}}},
		{"title": "x", "nickName": "userName"},
	} {
		u["userName"] = fmt.Sprintf("fa%d@example.com", i)
		if u["schemas"] == nil {
			u["schemas"] = []any{schema.UserSchemaURN}
		}
		e.must(e.do("POST", "/scim/v2/Users", u), 201)
	}
	for f, want := range map[string]string{
		`title eq "work"`:                                   "fa0@example.com",
		`title co "ork"`:                                    "fa0@example.com,fa1@example.com",
		`title ew "rk"`:                                     "fa0@example.com",
		`emails.type eq "home"`:                             "fa1@example.com",
		`emails[type eq "work"]`:                            "fa0@example.com",
		`nickName eq "userName"`:                            "fa2@example.com",
		`nickName co "erNa" and title pr`:                   "fa2@example.com",
		schema.EnterpriseUserURN + `:department eq "Sales"`: "fa0@example.com",
	} {
		if got := strings.Join(userNames(list(t, e, "filter="+urlq(f))), ","); got != want {
			t.Errorf("filter %s: got %s, want %s", f, got, want)
		}
	}
}

func testListAndFilter(t *testing.T, e *env) {
	for i, n := range []string{"carol", "alice", "bob", "dave"} {
		u := entraUser(n+"@corp.example", fmt.Sprintf("x%d", i))
		u["title"] = []string{"eng", "pm", "eng", "ceo"}[i]
		e.must(e.do("POST", "/scim/v2/Users", u), 201)
	}
	// Entra's test connection: an unknown userName is an empty 200, not a 404.
	r := list(t, e, "filter="+urlq(`userName eq "no-such-user"`))
	if r.body["totalResults"] != float64(0) || r.body["startIndex"] != float64(1) || r.body["schemas"].([]any)[0] != scimapi.ListResponseURN {
		t.Fatalf("empty list: %s", r.raw)
	}
	cases := map[string][]string{
		`userName eq "ALICE@corp.example"`:                                               {"alice@corp.example"},
		`title eq "eng"`:                                                                 {"carol@corp.example", "bob@corp.example"},
		`title eq "eng" and userName sw "b"`:                                             {"bob@corp.example"},
		`not (title eq "eng") and (userName co "a")`:                                     {"alice@corp.example", "dave@corp.example"},
		`emails[type eq "work"].value eq "dave@corp.example"`:                            {"dave@corp.example"},
		`emails[type eq "work" and value ew "corp.example"]`:                             {"carol@corp.example", "alice@corp.example", "bob@corp.example", "dave@corp.example"},
		`externalId eq "x2"`:                                                             {"bob@corp.example"},
		`active eq true and meta.lastModified gt "2000-01-01T00:00:00Z"`:                 {"carol@corp.example", "alice@corp.example", "bob@corp.example", "dave@corp.example"},
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d"`: {"carol@corp.example", "alice@corp.example", "bob@corp.example", "dave@corp.example"},
		`userName eq "alice@corp.example" or userName eq "bob@corp.example"`:             {"alice@corp.example", "bob@corp.example"},
	}
	for f, want := range cases {
		got := userNames(list(t, e, "filter="+urlq(f)))
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("filter %s: got %v want %v", f, got, want)
		}
	}
	got := userNames(list(t, e, "sortBy=userName&sortOrder=descending"))
	if strings.Join(got, ",") != "dave@corp.example,carol@corp.example,bob@corp.example,alice@corp.example" {
		t.Fatalf("sort: %v", got)
	}
	wantError(t, e.do("GET", "/scim/v2/Users?filter="+urlq(`userName eq`), nil), 400, "invalidFilter")
	wantError(t, e.do("GET", "/scim/v2/Users?filter="+urlq(`nosuch eq "x"`), nil), 400, "invalidFilter")
	// POST .search (RFC 7644 §3.4.3), trailing slash, and the root search.
	s := e.must(e.do("POST", "/scim/v2/Users/.search", map[string]any{"schemas": []string{scimapi.SearchRequestURN}, "filter": `title eq "eng"`, "attributes": []string{"userName"}, "count": 1}), 200)
	if s.body["totalResults"] != float64(2) || len(s.body["Resources"].([]any)) != 1 {
		t.Fatalf(".search: %s", s.raw)
	}
	if userNames(e.must(e.do("GET", "/scim/v2/Users/?filter="+urlq(`userName eq "bob@corp.example"`), nil), 200))[0] != "bob@corp.example" {
		t.Fatal("trailing slash list")
	}
	e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "eng"}), 201)
	// userName is not a Group attribute: on Groups it matches nothing.
	root := e.must(e.do("POST", "/scim/v2/.search", map[string]any{"filter": `displayName eq "eng" or userName eq "bob@corp.example"`}), 200)
	if root.body["totalResults"] != float64(2) {
		t.Fatalf("root search: %s", root.raw)
	}
	if r := e.must(e.do("POST", "/scim/v2/.search", map[string]any{"filter": `nosuch eq "x"`}), 200); r.body["totalResults"] != float64(0) {
		t.Fatalf("unknown attribute on every type: %s", r.raw)
	}
	wantError(t, e.do("POST", "/scim/v2/.search", map[string]any{"filter": `userName eq`}), 400, "invalidFilter")
}

func urlq(s string) string {
	r := strings.NewReplacer(" ", "+", `"`, "%22", "[", "%5B", "]", "%5D", "&", "%26", "(", "%28", ")", "%29")
	return r.Replace(s)
}

func testPaging(t *testing.T, e *env) {
	for i := 0; i < 12; i++ {
		e.must(e.do("POST", "/scim/v2/Users", map[string]any{"userName": fmt.Sprintf("p%02d", i)}), 201)
	}
	r := list(t, e, "startIndex=3&count=4")
	if r.body["totalResults"] != float64(12) || r.body["itemsPerPage"] != float64(4) || r.body["startIndex"] != float64(3) || userNames(r)[0] != "p02" {
		t.Fatalf("page: %s", r.raw)
	}
	// count=0 gives the total only; startIndex<1 is read as 1 (RFC 7644 §3.4.2.4).
	if r = list(t, e, "count=0"); r.body["totalResults"] != float64(12) || len(r.body["Resources"].([]any)) != 0 {
		t.Fatalf("count=0: %s", r.raw)
	}
	if r = list(t, e, "startIndex=0&count=1"); userNames(r)[0] != "p00" {
		t.Fatalf("startIndex=0: %v", userNames(r))
	}
	// count is capped at maxResults (50 here).
	if r = list(t, e, "count=1000"); r.body["itemsPerPage"] != float64(12) {
		t.Fatalf("cap: %v", r.body["itemsPerPage"])
	}
	// Filtered paging with a sort.
	if r = list(t, e, "filter="+urlq(`userName sw "p"`)+"&sortBy=userName&sortOrder=descending&startIndex=2&count=2"); strings.Join(userNames(r), ",") != "p10,p09" {
		t.Fatalf("sorted page: %v", userNames(r))
	}
	// Cursor pagination (RFC 9865), stable under concurrent inserts and deletes.
	var seen []string
	r = list(t, e, "cursor=&count=5")
	for round := 0; ; round++ {
		seen = append(seen, userNames(r)...)
		if round == 0 {
			// A delete of a seen item and an insert must not shift the pages.
			id := r.body["Resources"].([]any)[0].(map[string]any)["id"].(string)
			e.must(e.do("DELETE", "/scim/v2/Users/"+id, nil), 204)
			e.must(e.do("POST", "/scim/v2/Users", map[string]any{"userName": "late"}), 201)
		}
		next := str(r.body["nextCursor"])
		if next == "" {
			break
		}
		r = list(t, e, "cursor="+next+"&count=5")
	}
	if len(seen) != 13 || seen[12] != "late" || seen[5] != "p05" {
		t.Fatalf("cursor walk: %v", seen)
	}
	wantError(t, e.do("GET", "/scim/v2/Users?cursor=!!&count=1", nil), 400, "invalidCursor")
	wantError(t, e.do("GET", "/scim/v2/Users?cursor=&startIndex=2", nil), 400, "invalidValue")
	wantError(t, e.do("GET", "/scim/v2/Users?count=abc", nil), 400, "invalidValue")
}

func testBadInput(t *testing.T, e *env) {
	wantError(t, e.do("POST", "/scim/v2/Users", `{"userName": "x",`), 400, "invalidSyntax")
	wantError(t, e.do("POST", "/scim/v2/Users", `[1,2]`), 400, "invalidSyntax")
	wantError(t, e.do("POST", "/scim/v2/Users", `{"userName":"a"} {"x":1}`), 400, "invalidSyntax")
	wantError(t, e.do("POST", "/scim/v2/Users", `{"displayName":"no userName"}`), 400, "invalidValue")
	wantError(t, e.do("POST", "/scim/v2/Users", `{"userName":"x","active":"maybe"}`), 400, "invalidValue")
	wantError(t, e.do("POST", "/scim/v2/Users", `{"userName":"x","emails":[{"value":"a","primary":true},{"value":"b","primary":true}]}`), 400, "invalidValue")
	wantError(t, e.do("POST", "/scim/v2/Users", `{"userName":"`+strings.Repeat("a", 70<<10)+`"}`), 413, "")
	wantError(t, e.do("POST", "/scim/v2/Users", `{"userName":"x"}`, "Content-Type", "text/plain"), 415, "")
	wantError(t, e.do("GET", "/scim/v2/Users/does-not-exist", nil), 404, "")
	wantError(t, e.do("PATCH", "/scim/v2/Users/does-not-exist", patchBody(map[string]any{"op": "add", "path": "title", "value": "x"})), 404, "")
	wantError(t, e.do("PATCH", "/scim/v2/Groups/x", `{"schemas":["`+scimapi.PatchOpURN+`"],"Operations":[]}`), 400, "invalidSyntax")
	// application/json requests are accepted.
	e.must(e.do("POST", "/scim/v2/Users", `{"userName":"json"}`, "Content-Type", "application/json"), 201)
	// None of the failures above stored anything.
	if r := list(t, e, ""); r.body["totalResults"] != float64(1) {
		t.Fatalf("bad input changed state: %s", r.raw)
	}
}

func testDiscovery(t *testing.T, e *env) {
	sp := e.must(e.do("GET", "/scim/v2/ServiceProviderConfig", nil), 200)
	if get(sp.body, "bulk", "supported") != true || get(sp.body, "bulk", "maxOperations") != float64(5000) ||
		get(sp.body, scimapi.LimitsURN, "filterMaxDepth") != float64(32) ||
		get(sp.body, "patch", "supported") != true || get(sp.body, "filter", "maxResults") != float64(50) || get(sp.body, "etag", "supported") != true || get(sp.body, "pagination", "cursor") != true || get(sp.body, "changePassword", "supported") != false {
		t.Fatalf("spc %s", sp.raw)
	}
	// Trailing slashes are read as on /Users/ (what Entra and some test
	// suites send).
	for _, p := range []string{"/scim/v2/ServiceProviderConfig/", "/scim/v2/Schemas/", "/scim/v2/ResourceTypes/"} {
		e.must(e.do("GET", p, nil), 200)
	}
	sc := e.must(e.do("GET", "/scim/v2/Schemas", nil), 200)
	if sc.body["totalResults"].(float64) < 3 {
		t.Fatalf("schemas %v", sc.body["totalResults"])
	}
	u := e.must(e.do("GET", "/scim/v2/Schemas/"+schema.UserSchemaURN, nil), 200)
	if u.body["id"] != schema.UserSchemaURN {
		t.Fatalf("user schema %v", u.body["id"])
	}
	wantError(t, e.do("GET", "/scim/v2/Schemas/urn:nope", nil), 404, "")
	wantError(t, e.do("GET", "/scim/v2/Me", nil), 501, "") // RFC 7644 §3.11
	e.must(e.do("GET", "/scim/v2/ResourceTypes", nil), 200)
	g := e.must(e.do("GET", "/scim/v2/ResourceTypes/Group", nil), 200)
	if g.body["endpoint"] != "/Groups" {
		t.Fatalf("group rt %s", g.raw)
	}
}

func testProjection(t *testing.T, e *env) {
	id := str(e.must(e.do("POST", "/scim/v2/Users?attributes=userName", entraUser("proj@example.com", "pr")), 201).body["id"])
	r := e.must(e.do("GET", "/scim/v2/Users/"+id+"?attributes=userName,name.givenName", nil), 200)
	if r.body["id"] != id || r.body["userName"] == nil || get(r.body, "name", "givenName") != "Ada" || get(r.body, "name", "familyName") != nil || r.body["emails"] != nil {
		t.Fatalf("attributes: %s", r.raw)
	}
	r = e.must(e.do("GET", "/scim/v2/Users/"+id+"?excludedAttributes=emails,name", nil), 200)
	if r.body["emails"] != nil || r.body["name"] != nil || r.body["userName"] == nil || r.body["id"] == nil {
		t.Fatalf("excludedAttributes: %s", r.raw)
	}
}

// testConcurrentCreate: 50 clients POST one userName; exactly one 201.
func testConcurrentCreate(t *testing.T, e *env) {
	var wg sync.WaitGroup
	codes := make(chan int, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- e.do("POST", "/scim/v2/Users", map[string]any{"userName": "same"}).code
		}()
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[201] != 1 || n[409] != 49 {
		t.Fatalf("codes %v", n)
	}
	if r := list(t, e, ""); r.body["totalResults"] != float64(1) {
		t.Fatalf("stored %v", r.body["totalResults"])
	}
}

func testConcurrentMemberAdd(t *testing.T, e *env) {
	gid := str(e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "race"}), 201).body["id"])
	var ids []string
	for i := 0; i < 30; i++ {
		ids = append(ids, str(e.must(e.do("POST", "/scim/v2/Users", map[string]any{"userName": fmt.Sprintf("r%d", i)}), 201).body["id"]))
	}
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func(i int, id string) {
			defer wg.Done()
			body := patchBody(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}})
			if i%3 == 0 { // mix in document changes, which retry on conflicts
				body = patchBody(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}},
					map[string]any{"op": "replace", "path": "externalId", "value": fmt.Sprintf("ext-%d", i)})
			}
			if r := e.do("PATCH", "/scim/v2/Groups/"+gid, body); r.code != 204 {
				t.Errorf("patch %d: %d %s", i, r.code, r.raw)
			}
		}(i, id)
	}
	wg.Wait()
	if got := memberValues(t, e, gid); len(got) != len(ids) {
		t.Fatalf("%d members after concurrent adds, want %d", len(got), len(ids))
	}
}

func testScopes(t *testing.T, e *env) {
	e.token = auth.ScopeSCIMRead
	e.must(e.do("GET", "/scim/v2/Users", nil), 200)
	r := e.do("POST", "/scim/v2/Users", map[string]any{"userName": "x"})
	if r.code != 403 || !strings.Contains(r.hdr.Get("WWW-Authenticate"), `scope="scim_v2:users"`) {
		t.Fatalf("read-only write: %d %q", r.code, r.hdr.Get("WWW-Authenticate"))
	}
	e.token = auth.ScopeSCIMGroups
	e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "g"}), 201)
	if r := e.do("GET", "/scim/v2/Users", nil); r.code != 403 {
		t.Fatalf("groups scope read users: %d", r.code)
	}
	e.token = auth.ScopeAPIv3
	if r := e.do("GET", "/scim/v2/ServiceProviderConfig", nil); r.code != 403 {
		t.Fatalf("api_v3 discovery: %d", r.code)
	}
}

func testStrict(t *testing.T, e *env) {
	id := str(e.must(e.do("POST", "/scim/v2/Users", map[string]any{"userName": "s"}), 201).body["id"])
	wantError(t, e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "Replace", "path": "active", "value": false})), 400, "invalidSyntax")
	wantError(t, e.do("PATCH", "/scim/v2/Users/"+id, patchBody(map[string]any{"op": "replace", "path": "active", "value": "False"})), 400, "invalidValue")
	gid := str(e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "g", "members": []any{map[string]any{"value": id}}}), 201).body["id"])
	// RFC 7644 §3.5.2.2: remove without a filter removes the whole attribute.
	e.must(e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "remove", "path": "members", "value": []any{map[string]any{"value": "other"}}})), 204)
	if got := memberValues(t, e, gid); len(got) != 0 {
		t.Fatalf("strict remove: %v", got)
	}
	if len(e.compat) != 0 {
		t.Fatalf("compat rules applied in strict mode: %v", e.compat)
	}
}
