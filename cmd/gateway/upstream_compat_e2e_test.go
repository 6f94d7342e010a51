package main

import (
	"strings"
	"testing"
)

// TestUpstreamCompatRules: request shapes IdPs really send, which the
// elimity-com/scim upstream refuses when it gets them itself, succeed
// through scimgate, which sends them RFC-clean: a path-less PATCH with a
// dotted key (Entra), bare-string members in a group's POST and in a
// member PATCH.
func TestUpstreamCompatRules(t *testing.T) {
	const token = "upstream-secret-token"
	peer, seen := startPeer(t, token)
	up := peer.URL + "/scim/v2"
	c := newSCIMClient(t, upstreamConfig(t, up, token))
	direct := &scimClient{t: t, base: up, token: token} // a client of the upstream alone

	code, u := c.do("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace@example.com","name":{"familyName":"Hopper"}}`)
	if code != 201 {
		t.Fatalf("create user: %d %v", code, u)
	}
	uid := u["id"].(string)
	code, u2 := c.do("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alan@example.com"}`)
	if code != 201 {
		t.Fatalf("create user 2: %d %v", code, u2)
	}
	uid2 := u2["id"].(string)

	var gid string
	cases := []struct {
		name, method, path, body string
		check                    func(map[string]any) bool
	}{{
		name: "path-less replace with a dotted key", method: "PATCH", path: "/Users/" + uid,
		body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","value":{"name.givenName":"Grace","displayName":"Grace H."}}]}`,
		check: func(r map[string]any) bool {
			name, _ := r["name"].(map[string]any)
			return name["givenName"] == "Grace" && name["familyName"] == "Hopper" && r["displayName"] == "Grace H."
		},
	}, {
		name: "group with bare-string members", method: "POST", path: "/Groups",
		body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng","members":["` + uid + `"]}`,
		check: func(r map[string]any) bool {
			m, _ := r["members"].([]any)
			gid, _ = r["id"].(string)
			return len(m) == 1 && m[0].(map[string]any)["value"] == uid
		},
	}}
	for _, tc := range cases {
		if code, out := direct.do(tc.method, tc.path, tc.body); code < 400 {
			t.Fatalf("%s: the upstream alone accepted it (%d %v); the test proves nothing", tc.name, code, out)
		}
		code, out := c.do(tc.method, "/scim/v2"+tc.path, tc.body)
		if code >= 300 || !tc.check(out) {
			t.Fatalf("%s through scimgate: %d %v", tc.name, code, out)
		}
	}

	addBare := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":"` + uid2 + `"}]}`
	if code, out := direct.do("PATCH", "/Groups/"+gid, addBare); code < 400 {
		t.Fatalf("bare member PATCH: the upstream alone accepted it (%d %v)", code, out)
	}
	code, g := c.do("PATCH", "/scim/v2/Groups/"+gid, addBare)
	if m, _ := g["members"].([]any); code != 200 || len(m) != 2 {
		t.Fatalf("bare member PATCH through scimgate: %d %v", code, g)
	}
	var patched bool
	for _, r := range seen() {
		if r.auth == "Bearer "+token && r.method == "PATCH" && strings.Contains(r.body, `"path":"name.givenName"`) {
			patched = true
			if strings.Contains(r.body, `"op":"Replace"`) {
				t.Fatalf("upstream got %s", r.body)
			}
		}
	}
	if !patched {
		t.Fatal("the dotted key did not reach the upstream as a path")
	}
}
