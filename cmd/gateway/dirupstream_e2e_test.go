package main

import (
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/config"
)

// dirClient creates a client of directory dir through the admin API and
// returns a SCIM client with its new token.
func dirClient(t *testing.T, admin *scimClient, name, dir string) *scimClient {
	t.Helper()
	if code, cl := admin.do("POST", "/admin/api/v1/clients", `{"name":"`+name+`","directory":"`+dir+`"}`); code != 201 {
		t.Fatalf("client %s: %d %v", name, code, cl)
	}
	code, tok := admin.do("POST", "/admin/api/v1/clients/"+name+"/tokens", `{"expires":"1d"}`)
	if code != 201 {
		t.Fatalf("token of %s: %d %v", name, code, tok)
	}
	return &scimClient{t: t, base: admin.base, token: tok["token"].(string)}
}

// rawGet returns the body of an authenticated GET.
func rawGet(t *testing.T, c *scimClient, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

const userJSON = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s"}`

func newUser(name string) string { return strings.Replace(userJSON, "%s", name, 1) }

// TestDirectoryUpstreamSetThroughAdminAPI: a directory created with an
// upstream through the admin API forwards its clients' requests there with
// the upstream's token (never the caller's); another directory and the
// default one (no upstream.url) stay stored; changing the directory's
// upstream URL takes effect; the token is never returned.
func TestDirectoryUpstreamSetThroughAdminAPI(t *testing.T) {
	for _, sealed := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "sealed"}[sealed], func(t *testing.T) {
			const peerToken = "peer-secret-token-1234"
			peerA, seenA := startPeer(t, peerToken)
			peerB, seenB := startPeer(t, peerToken)
			cfg := config.Default()
			cfg.RateLimit.Rate = 0
			if sealed {
				cfg.OAuth.KeyEncryptionKeyB64 = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
			}
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

			// Bad settings are refused and create nothing.
			for _, bad := range []string{
				`{"name":"op","backend":"upstream","upstream":{"url":"http://op.example.com/scim","token":"x"}}`,
				`{"name":"op","backend":"upstream","upstream":{"url":"` + peerA.URL + `/scim/v2"}}`,
				`{"name":"op","backend":"upstream","upstream":{"url":"` + peerA.URL + `/scim/v2","token":"x","timeout":"1h"}}`,
				`{"name":"op","backend":"elsewhere"}`,
			} {
				if code, b := admin.do("POST", "/admin/api/v1/directories", bad); code != 400 {
					t.Fatalf("%s: %d %v", bad, code, b)
				}
			}
			code, d := admin.do("POST", "/admin/api/v1/directories",
				`{"name":"op","backend":"upstream","upstream":{"url":"`+peerA.URL+`/scim/v2","token":"`+peerToken+`","timeout":"2s","max_concurrency":8}}`)
			if code != 201 {
				t.Fatalf("directory: %d %v", code, d)
			}
			up, _ := d["upstream"].(map[string]any)
			if d["backend"] != "upstream" || up["url"] != peerA.URL+"/scim/v2" || up["token_set"] != true || up["token_sealed"] != sealed ||
				up["timeout"] != "2s" || up["max_concurrency"] != float64(8) {
				t.Fatalf("created directory: %v", d)
			}
			if code, d := admin.do("POST", "/admin/api/v1/directories", `{"name":"acme"}`); code != 201 || d["backend"] != "stored" {
				t.Fatalf("stored directory: %d %v", code, d)
			}
			if code, d := admin.do("PATCH", "/admin/api/v1/directories/default", `{"backend":"upstream","upstream":{"url":"`+peerA.URL+`","token":"t"}}`); code != 400 {
				t.Fatalf("default directory given an upstream by the API: %d %v", code, d)
			}
			op := dirClient(t, admin, "op-idp", "op")
			acme := dirClient(t, admin, "acme-idp", "acme")

			if code, u := op.do("POST", "/scim/v2/Users", newUser("a@op.example")); code != 201 {
				t.Fatalf("op create: %d %v", code, u)
			}
			reqs := seenA()
			if len(reqs) == 0 || !strings.Contains(reqs[len(reqs)-1].body, "a@op.example") {
				t.Fatalf("op's create did not reach its upstream: %v", reqs)
			}
			for _, r := range reqs {
				if r.auth != "Bearer "+peerToken || strings.Contains(r.auth, op.token) {
					t.Fatalf("upstream got Authorization %q", r.auth)
				}
			}
			if code, l := op.do("GET", "/scim/v2/Users", ""); code != 200 || l["totalResults"] != float64(1) {
				t.Fatalf("op list: %d %v", code, l)
			}
			// The accepted write is in op's audit trail, not the default's.
			if b := rawGet(t, admin, "/admin/api/v1/audit?limit=1000&directory=op"); !strings.Contains(b, "a@op.example") || strings.Contains(b, peerToken) {
				t.Fatalf("op's audit: %s", b)
			}
			if b := rawGet(t, admin, "/admin/api/v1/audit?limit=1000&directory=default"); strings.Contains(b, "a@op.example") || strings.Contains(b, peerToken) {
				t.Fatalf("default audit: %s", b)
			}
			before := len(seenA())
			for _, c := range []*scimClient{acme, def} {
				if code, u := c.do("POST", "/scim/v2/Users", newUser("local@example.com")); code != 201 {
					t.Fatalf("stored create: %d %v", code, u)
				}
				if code, l := c.do("GET", "/scim/v2/Users", ""); code != 200 || l["totalResults"] != float64(1) {
					t.Fatalf("stored list: %d %v", code, l)
				}
			}
			if n := len(seenA()); n != before || len(seenB()) != 0 {
				t.Fatalf("stored directories' requests reached an upstream")
			}

			// The token is never returned.
			for _, p := range []string{"/admin/api/v1/directories", "/admin/api/v1/directories/op"} {
				if b := rawGet(t, admin, p); strings.Contains(b, peerToken) || !strings.Contains(b, `"token_set":true`) {
					t.Fatalf("GET %s: %s", p, b)
				}
			}

			// A new URL takes effect within the cache TTL (at once here:
			// the admin API is in this process).
			if code, d := admin.do("PATCH", "/admin/api/v1/directories/op", `{"upstream":{"url":"`+peerB.URL+`/scim/v2"}}`); code != 200 {
				t.Fatalf("patch: %d %v", code, d)
			}
			deadline := time.Now().Add(6 * time.Second)
			for len(seenB()) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the new upstream URL did not take effect")
				}
				if code, l := op.do("GET", "/scim/v2/Users", ""); code != 200 {
					t.Fatalf("op list after patch: %d %v", code, l)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if r := seenB()[0]; r.auth != "Bearer "+peerToken {
				t.Fatalf("new upstream got Authorization %q", r.auth)
			}
			// Back to stored: the client's requests no longer leave.
			if code, d := admin.do("PATCH", "/admin/api/v1/directories/op", `{"backend":"stored"}`); code != 200 || d["upstream"] != nil {
				t.Fatalf("patch to stored: %d %v", code, d)
			}
			nb := len(seenB())
			if code, l := op.do("GET", "/scim/v2/Users", ""); code != 200 || l["totalResults"] != float64(0) || len(seenB()) != nb {
				t.Fatalf("op after switching to stored: %d %v", code, l)
			}
		})
	}
}
