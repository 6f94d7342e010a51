package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	m, err := decodeObject([]byte(s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return m
}

func TestMemberChanges(t *testing.T) {
	for _, tc := range []struct {
		name           string
		kind           writeKind
		req, resp      string
		added, removed []string
	}{
		{"create", kindCreate, `{"members":[{"value":"a"}]}`, `{"id":"g","members":[{"value":"a"},{"value":"b"}]}`, []string{"a", "b"}, nil},
		{"add with path", kindPatch, `{"Operations":[{"op":"add","path":"members","value":[{"value":"a"},{"value":"b"}]}]}`, `{}`, []string{"a", "b"}, nil},
		{"path-less add", kindPatch, `{"Operations":[{"op":"add","value":{"members":[{"value":"a"}]}}]}`, `{}`, []string{"a"}, nil},
		{"remove by filter", kindPatch, `{"Operations":[{"op":"remove","path":"members[value eq \"a\\\"b\"]"}]}`, `{}`, nil, []string{`a"b`}},
		{"remove by value list", kindPatch, `{"Operations":[{"op":"remove","path":"members","value":[{"value":"a"}]}]}`, `{}`, nil, []string{"a"}},
		{"add then remove", kindPatch, `{"Operations":[{"op":"add","path":"members","value":[{"value":"a"}]},{"op":"remove","path":"Members[value eq \"a\"]"}]}`, `{}`, nil, []string{"a"}},
		{"answer disagrees", kindPatch, `{"Operations":[{"op":"add","path":"members","value":[{"value":"a"},{"value":"b"}]},{"op":"remove","path":"members[value eq \"c\"]"}]}`,
			`{"members":[{"value":"a"},{"value":"c"}]}`, []string{"a"}, nil},
		{"replace is not derived", kindPatch, `{"Operations":[{"op":"replace","path":"members","value":[{"value":"a"}]}]}`, `{}`, nil, nil},
		{"put is not derived", kindReplace, `{"members":[{"value":"a"}]}`, `{}`, nil, nil},
	} {
		added, removed := memberChanges(tc.kind, decode(t, tc.req), decode(t, tc.resp))
		if !slices.Equal(added, tc.added) || !slices.Equal(removed, tc.removed) {
			t.Errorf("%s: added %q removed %q, want %q %q", tc.name, added, removed, tc.added, tc.removed)
		}
	}
}

// TestCompatRulesReachUpstreamClean: each IdP request shape arrives at the
// upstream in RFC 7644 form, and each rule is counted.
func TestCompatRulesReachUpstreamClean(t *testing.T) {
	var mu sync.Mutex
	var rules []string
	g := newTestGateway(t, func(w http.ResponseWriter, r *http.Request) {
		scimJSON(w, 200, `{"id":"x"}`)
	}, Options{OnCompat: func(rule string) { mu.Lock(); rules = append(rules, rule); mu.Unlock() }}, 0)
	for _, tc := range []struct {
		name, method, path, body, want string
		rules                          []string
	}{{
		"Entra user update", "PATCH", "/Users/u1",
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","value":{"name.givenName":"G","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"42","displayName":"D","active":"False"}}]}`,
		`{"Operations":[{"op":"replace","value":{"active":false,"displayName":"D"}},{"op":"replace","path":"name.givenName","value":"G"},{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"42"}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`,
		[]string{"op_case", "string_boolean", "pathless_dotted_key", "pathless_dotted_key"},
	}, {
		"only dotted keys", "PATCH", "/Users/u1",
		`{"Operations":[{"op":"add","value":{"name.familyName":"F"}}]}`,
		`{"Operations":[{"op":"add","path":"name.familyName","value":"F"}]}`,
		[]string{"pathless_dotted_key"},
	}, {
		"extension container stays", "PATCH", "/Users/u1",
		`{"Operations":[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R"}}}]}`,
		`{"Operations":[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R"}}}]}`,
		nil,
	}, {
		"group with bare members", "POST", "/Groups",
		`{"displayName":"G","members":["a","b"]}`,
		`{"displayName":"G","members":[{"value":"a"},{"value":"b"}]}`,
		[]string{"bare_string_member"},
	}, {
		"member add with a bare id", "PATCH", "/Groups/g1",
		`{"Operations":[{"op":"Add","path":"members","value":"a"}]}`,
		`{"Operations":[{"op":"add","path":"members","value":[{"value":"a"}]}]}`,
		[]string{"op_case", "bare_string_member"},
	}, {
		"Entra remove of listed members", "PATCH", "/Groups/g1",
		`{"Operations":[{"op":"Remove","path":"members","value":[{"value":"a"},{"value":"b\"c"}]}]}`,
		`{"Operations":[{"op":"remove","path":"members[value eq \"a\"]"},{"op":"remove","path":"members[value eq \"b\\\"c\"]"}]}`,
		[]string{"op_case", "remove_members_by_value"},
	}, {
		"path-less member add with bare ids", "PATCH", "/Groups/g1",
		`{"Operations":[{"op":"add","value":{"members":["a"]}}]}`,
		`{"Operations":[{"op":"add","value":{"members":[{"value":"a"}]}}]}`,
		[]string{"bare_string_member"},
	}, {
		"RFC-clean request unchanged", "PATCH", "/Users/u1",
		`{"Operations":[{"op":"replace","path":"name.givenName","value":"x"}]}`,
		`{"Operations":[{"op":"replace","path":"name.givenName","value":"x"}]}`,
		nil,
	}} {
		mu.Lock()
		rules = nil
		mu.Unlock()
		before := len(g.requests())
		if resp, out := g.do(tc.method, "/scim/v2"+tc.path, tc.body); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", tc.name, resp.StatusCode, out)
		}
		got := g.requests()[before].body
		var a, b any
		_ = json.Unmarshal([]byte(got), &a)
		_ = json.Unmarshal([]byte(tc.want), &b)
		if ja, _ := json.Marshal(a); string(ja) != string(mustJSON(b)) {
			t.Errorf("%s: upstream got\n%s\nwant\n%s", tc.name, got, tc.want)
		}
		mu.Lock()
		if !slices.Equal(rules, tc.rules) {
			t.Errorf("%s: rules %q, want %q", tc.name, rules, tc.rules)
		}
		mu.Unlock()
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// TestGroupMemberEvents: a forwarded group PATCH the upstream accepted
// publishes group.member_added / group.member_removed, as the stored
// backend does, and no group.updated when only members changed; a refused
// one records nothing.
func TestGroupMemberEvents(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		status := 200
		g := newTestGateway(t, func(w http.ResponseWriter, req *http.Request) {
			if status != 200 {
				scimJSON(w, status, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","detail":"no"}`)
				return
			}
			scimJSON(w, 200, `{"id":"g1","displayName":"Eng","members":[{"value":"u1"},{"value":"u2"}]}`)
		}, Options{Recorder: NewRedisRecorder(r.Client, r.Prefix, 0)}, 0)
		resp, _ := g.do("PATCH", "/scim/v2/Groups/g1", `{"Operations":[{"op":"Add","path":"members","value":["u1","u2"]},{"op":"Remove","path":"members","value":[{"value":"u3"}]}]}`)
		if resp.StatusCode != 200 {
			t.Fatalf("patch: %d", resp.StatusCode)
		}
		status = 400
		if resp, _ := g.do("PATCH", "/scim/v2/Groups/g1", `{"Operations":[{"op":"add","path":"members","value":[{"value":"u9"}]}]}`); resp.StatusCode != 400 {
			t.Fatalf("refused patch: %d", resp.StatusCode)
		}
		ctx := context.Background()
		evs, err := r.Client.XRange(ctx, store.TaggedEventsKey(r.Prefix, store.DefaultTag), "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range evs {
			got = append(got, e.Values["type"].(string)+" "+e.Values["id"].(string)+" "+e.Values["member"].(string))
		}
		want := []string{"group.member_added g1 u1", "group.member_added g1 u2", "group.member_removed g1 u3"}
		if !slices.Equal(got, want) {
			t.Fatalf("events %q, want %q", got, want)
		}
		au, err := r.Client.XRange(ctx, audit.TaggedKey(r.Prefix, store.DefaultTag), "-", "+").Result()
		if err != nil || len(au) != 1 {
			t.Fatalf("audit: %v %v", au, err)
		}
		ev, ok := audit.Decode(au[0])
		if !ok {
			t.Fatalf("audit entry %v does not decode", au[0].Values)
		}
		if ev.Action != audit.GroupMembershipChanged || ev.Target.ID != "g1" || !slices.Equal(ev.Changed, []string{"members"}) || ev.Actor.ClientID != "idp" {
			t.Fatalf("audit event %+v", ev)
		}
		if evs[0].Values["audit_id"] != au[0].ID {
			t.Fatalf("member event not linked to the audit entry: %v", evs[0].Values)
		}
		if strings.Contains(fmt.Sprint(au[0].Values), "caller-secret") {
			t.Fatal("the caller's token is in the audit trail")
		}
	})
}
