package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/config"
)

// peerRequest is what the upstream saw of one request.
type peerRequest struct {
	method, path, auth, body string
	header                   http.Header
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

func upstreamConfig(t *testing.T, url, token string) config.Config {
	t.Helper()
	f := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(f, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Upstream.URL = url
	cfg.Upstream.TokenFile = f
	cfg.Upstream.Timeout = config.Duration(time.Second)
	return cfg
}

// TestUpstreamCRUDThroughGateway: a SCIM client with a scimgate token
// drives users on an elimity-com/scim upstream through scimgate; the
// upstream sees scimgate's credential only, Entra's request shapes arrive
// RFC-clean, locations point at scimgate, errors and ETags pass through.
func TestUpstreamCRUDThroughGateway(t *testing.T) {
	peer, seen := startPeer(t, "upstream-secret-token")
	c := newSCIMClient(t, upstreamConfig(t, peer.URL+"/scim/v2", "upstream-secret-token"))

	code, u := c.do("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com","active":"True","displayName":"Ada"}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, u)
	}
	id, _ := u["id"].(string)
	meta, _ := u["meta"].(map[string]any)
	if loc, _ := meta["location"].(string); loc != c.base+"/scim/v2/Users/"+id {
		t.Fatalf("meta.location %q not rewritten to %s", loc, c.base)
	}
	if u["active"] != true {
		t.Fatalf("active = %v: the string boolean was not converted", u["active"])
	}
	req, _ := http.NewRequest("GET", c.base+"/scim/v2/Users/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
		t.Fatalf("get: %d etag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
	code, list := c.do("GET", "/scim/v2/Users?filter="+strings.ReplaceAll(`userName eq "ada@example.com"`, " ", "%20"), "")
	if code != 200 || list["totalResults"] != float64(1) {
		t.Fatalf("filter: %d %v", code, list)
	}
	res := list["Resources"].([]any)[0].(map[string]any)
	if loc := res["meta"].(map[string]any)["location"]; loc != c.base+"/scim/v2/Users/"+id {
		t.Fatalf("list meta.location %v", loc)
	}
	// Entra's PATCH: "Replace" and "False".
	code, p := c.do("PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	if code != 200 || p["active"] != false {
		t.Fatalf("patch: %d %v", code, p)
	}
	code, put := c.do("PUT", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com","displayName":"Ada L."}`)
	if code != 200 || put["displayName"] != "Ada L." {
		t.Fatalf("put: %d %v", code, put)
	}
	if code, _ := c.do("DELETE", "/scim/v2/Users/"+id, ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	code, nf := c.do("GET", "/scim/v2/Users/"+id, "")
	if code != 404 || nf["status"] != "404" {
		t.Fatalf("get deleted: %d %v", code, nf)
	}
	if code, _ := c.do("GET", "/scim/v2/Users", ""); code != 200 {
		t.Fatalf("unfiltered list: %d", code)
	}
	code, b := c.do("POST", "/scim/v2/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"a","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x"}}]}`)
	if ops, _ := b["Operations"].([]any); code != 200 || len(ops) != 1 || ops[0].(map[string]any)["status"] != "201" {
		t.Fatalf("bulk expanded into single requests: %d %v", code, b)
	}
	code, spc := c.do("GET", "/scim/v2/ServiceProviderConfig", "")
	if code != 200 || spc["authenticationSchemes"].([]any)[0].(map[string]any)["type"] != "oauthbearertoken" {
		t.Fatalf("spc: %d %v", code, spc)
	}

	var patched bool
	for _, r := range seen() {
		if r.auth != "Bearer upstream-secret-token" || strings.Contains(r.auth, c.token) {
			t.Fatalf("upstream saw Authorization %q on %s %s", r.auth, r.method, r.path)
		}
		for _, h := range []string{"Connection", "Cookie", "X-Forwarded-For", "Proxy-Authorization"} {
			if r.header.Get(h) != "" {
				t.Fatalf("header %s forwarded", h)
			}
		}
		if r.method == "PATCH" {
			patched = true
			if !strings.Contains(r.body, `"op":"replace"`) || !strings.Contains(r.body, `"value":false`) {
				t.Fatalf("upstream got PATCH %s", r.body)
			}
		}
	}
	if !patched {
		t.Fatal("no PATCH reached the upstream")
	}
}

// TestUpstreamDownAndSlow: an unreachable upstream is 502, a slow one 504,
// each a SCIM error whose detail tells nothing of the upstream.
func TestUpstreamDownAndSlow(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	}))
	defer slow.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	for _, tc := range []struct {
		url  string
		want int
	}{{downURL + "/scim", 502}, {slow.URL + "/scim", 504}} {
		cfg := upstreamConfig(t, tc.url, "tok")
		cfg.Upstream.Timeout = config.Duration(300 * time.Millisecond)
		c := newSCIMClient(t, cfg)
		code, body := c.do("GET", "/scim/v2/Users/x", "")
		if code != tc.want || body["status"] != strconv.Itoa(tc.want) {
			t.Fatalf("%s: %d %v", tc.url, code, body)
		}
		if d := body["detail"].(string); strings.Contains(d, "127.0.0.1") || strings.Contains(d, "dial") {
			t.Fatalf("detail leaks upstream internals: %q", d)
		}
	}
}

// TestUpstreamIsTheDefaultDirectorysBackend: gateway mode forwards the
// default directory's requests only; a client of another directory keeps
// its own stored users, and none of its requests reach the upstream.
func TestUpstreamIsTheDefaultDirectorysBackend(t *testing.T) {
	peer, seen := startPeer(t, "upstream-secret-token")
	cfg := upstreamConfig(t, peer.URL+"/scim/v2", "upstream-secret-token")
	cfg.RateLimit.Rate = 0
	base, logs := startGateway(t, cfg)
	grab := func(re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(logs.String())
		if m == nil {
			t.Fatalf("%s not printed:\n%s", re, logs)
		}
		return m[1]
	}
	def := &scimClient{t: t, base: base, token: grab(`SCIM token:\s+(opst-\S+)`)}
	admin := &scimClient{t: t, base: base, token: grab(`admin API token:\s+(opadm-\S+)`)}
	if code, d := admin.do("POST", "/admin/api/v1/directories", `{"name":"acme"}`); code != 201 {
		t.Fatalf("directory: %d %v", code, d)
	}
	code, cl := admin.do("POST", "/admin/api/v1/clients", `{"name":"acme-idp","directory":"acme"}`)
	if code != 201 {
		t.Fatalf("client: %d %v", code, cl)
	}
	code, tok := admin.do("POST", "/admin/api/v1/clients/acme-idp/tokens", `{"expires":"1d"}`)
	if code != 201 {
		t.Fatalf("token: %d %v", code, tok)
	}
	acme := &scimClient{t: t, base: base, token: tok["token"].(string)}

	before := len(seen())
	if code, u := acme.do("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"local@acme.example"}`); code != 201 {
		t.Fatalf("acme create: %d %v", code, u)
	}
	if code, l := acme.do("GET", "/scim/v2/Users", ""); code != 200 || l["totalResults"] != float64(1) {
		t.Fatalf("acme list: %d %v", code, l)
	}
	if n := len(seen()); n != before {
		t.Fatalf("the acme directory's requests reached the upstream (%d requests)", n-before)
	}
	if code, u := def.do("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"fwd@example.com"}`); code != 201 {
		t.Fatalf("default create: %d %v", code, u)
	}
	var fwd bool
	for _, r := range seen()[before:] {
		fwd = fwd || (r.method == "POST" && strings.Contains(r.body, "fwd@example.com"))
	}
	if !fwd {
		t.Fatal("the default directory's create did not reach the upstream")
	}
	if code, l := def.do("GET", "/scim/v2/Users?filter="+strings.ReplaceAll(`userName eq "local@acme.example"`, " ", "%20"), ""); code != 200 || l["totalResults"] != float64(0) {
		t.Fatalf("default directory sees acme's user: %d %v", code, l)
	}
}
