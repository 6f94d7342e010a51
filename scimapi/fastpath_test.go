package scimapi_test

import (
	"fmt"
	"net/url"
	"reflect"
	"testing"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/schema"
)

// TestFastPathHTTP: through the HTTP stack and the store, GET by id and a
// userName filter answer the same JSON, ETag and status whether the
// response is spliced from the stored document or rendered in general (an
// excludedAttributes entry naming no attribute forces the general path;
// RFC 7644 §3.4.2.5 ignores it), for Users with groups, extensions and
// odd strings, and Groups with members; and unindexed filters find the
// same resources as before (they scan raw documents).
func TestFastPathHTTP(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		e := newEnv(t, r, false)
		var users []string
		for i, name := range []string{"plain", `quote"d`, "<html>&", "ünï\u2028", "K\u212aelvin"} {
			u := entraUser(fmt.Sprintf("u%d-%s@example.com", i, name), fmt.Sprintf("ext-%d", i))
			u["title"] = name
			u["name"] = map[string]any{"familyName": name, "givenName": "G"}
			if i%2 == 1 {
				u["emails"] = []any{}
				u[schema.EnterpriseUserURN] = map[string]any{"manager": map[string]any{"value": "m"}, "employeeNumber": "7"}
			}
			users = append(users, str(e.must(e.do("POST", "/scim/v2/Users", u), 201).body["id"]))
		}
		members := []any{map[string]any{"value": users[0]}, map[string]any{"value": users[1], "display": "One"}}
		g := e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "G<1>", "members": members}), 201)
		gid := str(g.body["id"])
		e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "outer", "members": []any{map[string]any{"value": gid}}}), 201)

		same := func(path string) resp {
			t.Helper()
			fast := e.must(e.do("GET", path, nil), 200)
			sep := "?"
			if u, _ := url.Parse(path); u.RawQuery != "" {
				sep = "&"
			}
			slow := e.must(e.do("GET", path+sep+"excludedAttributes=noSuchAttribute", nil), 200)
			if !reflect.DeepEqual(fast.body, slow.body) || fast.hdr.Get("ETag") != slow.hdr.Get("ETag") ||
				fast.hdr.Get("Content-Type") != slow.hdr.Get("Content-Type") {
				t.Fatalf("GET %s: fast and general responses differ\nfast: %s %v\nslow: %s %v", path, fast.raw, fast.hdr, slow.raw, slow.hdr)
			}
			// The splice keeps the stored key order, then id and meta; the
			// general path sorts keys: equal bytes mean no splice was made.
			if fast.raw == slow.raw && fast.body["totalResults"] != float64(0) {
				t.Fatalf("GET %s: not answered by the fast path", path)
			}
			return fast
		}
		for i, id := range users {
			u := same("/scim/v2/Users/" + id)
			if i < 2 && len(u.body["groups"].([]any)) != 1 {
				t.Fatalf("user %d: groups %v", i, u.body["groups"])
			}
			if u.body["password"] != nil {
				t.Fatal("password returned")
			}
			e.must(e.do("GET", "/scim/v2/Users/"+id, nil, "If-None-Match", u.hdr.Get("ETag")), 304)
			l := same("/scim/v2/Users?filter=" + url.QueryEscape(fmt.Sprintf("userName eq %q", str(u.body["userName"]))))
			if l.body["totalResults"] != float64(1) || !reflect.DeepEqual(l.body["Resources"].([]any)[0], u.body) {
				t.Fatalf("filter by userName: %s, want the user %s", l.raw, u.raw)
			}
		}
		gr := same("/scim/v2/Groups/" + gid)
		if len(gr.body["members"].([]any)) != 2 {
			t.Fatalf("group members: %s", gr.raw)
		}
		same("/scim/v2/Groups")
		same("/scim/v2/Users?count=3")
		same("/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "absent@example.com"`))

		// Unindexed filters, answered by the raw-document scan.
		for filter, want := range map[string]int{
			`name.familyName eq "PLAIN"`:                                     1,
			`name.familyName eq "kkelvin"`:                                   1, // K and the Kelvin sign fold to k
			`title co "<html>"`:                                              1,
			`emails.value co "@EXAMPLE.com"`:                                 3,
			`title sw "ü" and active eq true`:                                1,
			`emails.value co "nobody"`:                                       0,
			`groups.value pr`:                                                2,
			`title eq "plain" or title co "&"`:                               2,
			`externalId eq "EXT-1"`:                                          0, // caseExact
			schema.EnterpriseUserURN + `:employeeNumber eq "7" and title pr`: 2,
		} {
			l := same("/scim/v2/Users?filter=" + url.QueryEscape(filter))
			if l.body["totalResults"] != float64(want) {
				t.Errorf("filter %s: totalResults %v, want %d", filter, l.body["totalResults"], want)
			}
		}
	})
}
