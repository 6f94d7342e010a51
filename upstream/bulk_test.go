package upstream

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// bulkUpstream answers like a SCIM server without /Bulk: users are
// created, groups fail with 500, PATCH answers with the version it was
// conditioned on.
func bulkUpstream(supported bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/scim/ServiceProviderConfig":
			if supported {
				scimJSON(w, 200, `{"bulk":{"supported":true,"maxOperations":10,"maxPayloadSize":1000}}`)
				return
			}
			scimJSON(w, 200, `{"bulk":{"supported":false,"maxOperations":1000,"maxPayloadSize":1048576},"patch":{"supported":true}}`)
		case r.URL.Path == "/scim/Bulk":
			scimJSON(w, 200, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkResponse"],"Operations":[]}`)
		case r.Method == "POST" && r.URL.Path == "/scim/Users":
			w.Header().Set("Location", "http://"+r.Host+"/scim/Users/u1")
			w.Header().Set("ETag", `W/"1"`)
			scimJSON(w, 201, `{"id":"u1","userName":"a","meta":{"location":"http://`+r.Host+`/scim/Users/u1","version":"W/\"1\""}}`)
		case r.Method == "POST":
			scimJSON(w, 500, `{"detail":"stack trace at groups.go:7"}`)
		case r.Method == "PATCH":
			w.Header().Set("ETag", `W/"2"`)
			scimJSON(w, 200, `{"id":"u1","userName":"a","ifMatch":"`+strings.ReplaceAll(r.Header.Get("If-Match"), `"`, `\"`)+`"}`)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}
}

// TestBulkExpandedResults: RFC 7644 §3.7 results of an expanded bulk: the
// created user's id replaces bulkId:u in a later path, version becomes
// If-Match, an upstream 5xx fails its operation only (502, safe detail),
// an operation referring to a failed one is not sent, locations are
// scimgate's, and the rate limit is charged once per operation.
func TestBulkExpandedResults(t *testing.T) {
	charged := 0
	r := redistest.Mini(t)
	g := newTestGateway(t, bulkUpstream(false), Options{
		ChargeExtra: func(_ *gin.Context, n int) bool { charged += n; return true },
		Recorder:    NewRedisRecorder(r.Client, r.Prefix, 0),
	}, 0)
	resp, out := g.do("POST", "/scim/v2/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
		{"method":"POST","path":"/Users","bulkId":"u","data":{"userName":"a"}},
		{"method":"PATCH","path":"/Users/bulkId:u","version":"W/\"1\"","data":{"Operations":[{"op":"Replace","path":"displayName","value":"A"}]}},
		{"method":"POST","path":"/Groups","bulkId":"g","data":{"displayName":"G","members":[{"value":"bulkId:u"}]}},
		{"method":"DELETE","path":"/Groups/bulkId:g"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("bulk: %d %v", resp.StatusCode, out)
	}
	ops := out["Operations"].([]any)
	var statuses []string
	for _, o := range ops {
		statuses = append(statuses, o.(map[string]any)["status"].(string))
	}
	if !slices.Equal(statuses, []string{"201", "200", "502", "400"}) {
		t.Fatalf("statuses %q: %v", statuses, ops)
	}
	created := ops[0].(map[string]any)
	if created["location"] != g.url+"/scim/v2/Users/u1" || created["version"] != `W/"1"` || created["bulkId"] != "u" {
		t.Fatalf("create result %v", created)
	}
	patched := ops[1].(map[string]any)
	if patched["location"] != g.url+"/scim/v2/Users/u1" || patched["version"] != `W/"2"` {
		t.Fatalf("patch result %v", patched)
	}
	failed := ops[2].(map[string]any)["response"].(map[string]any)
	if d, _ := failed["detail"].(string); strings.Contains(d, "groups.go") || failed["status"] != "502" {
		t.Fatalf("upstream failure result %v", failed)
	}
	var sent []string
	for _, s := range g.requests() {
		if s.method != "GET" {
			sent = append(sent, s.method+" "+s.path)
		}
		if s.method == "PATCH" && (s.header.Get("If-Match") != `W/"1"` || !strings.Contains(s.body, `"op":"replace"`)) {
			t.Fatalf("PATCH sent with If-Match %q body %s", s.header.Get("If-Match"), s.body)
		}
		if s.method == "POST" && s.path == "/scim/Groups" && !strings.Contains(s.body, `"value":"u1"`) {
			t.Fatalf("group sent without the resolved member: %s", s.body)
		}
	}
	if !slices.Equal(sent, []string{"POST /scim/Users", "PATCH /scim/Users/u1", "POST /scim/Groups"}) {
		t.Fatalf("sent %q", sent)
	}
	if charged != 3 {
		t.Fatalf("charged %d extra requests, want 3", charged)
	}
	evs, err := r.Client.XRange(context.Background(), store.TaggedEventsKey(r.Prefix, store.DefaultTag), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Values["type"].(string))
	}
	if !slices.Equal(types, []string{"user.created", "user.updated"}) {
		t.Fatalf("events %q: only accepted operations are recorded", types)
	}
}

// TestBulkRefusedWhole: limits and malformed operations refuse the whole
// request before anything is sent or charged.
func TestBulkRefusedWhole(t *testing.T) {
	charged := 0
	g := newTestGateway(t, bulkUpstream(false), Options{
		BulkMaxOperations: 2, BulkMaxPayload: 600,
		ChargeExtra: func(_ *gin.Context, n int) bool { charged += n; return true },
	}, 0)
	op := `{"method":"POST","path":"/Users","bulkId":"%s","data":{"userName":"a"}}`
	for _, tc := range []struct {
		name, body string
		want       int
		scimType   string
	}{
		{"maxOperations", `{"Operations":[` + strings.Join([]string{fmt.Sprintf(op, "a"), fmt.Sprintf(op, "b"), fmt.Sprintf(op, "c")}, ",") + `]}`, 413, ""},
		{"maxPayloadSize", `{"Operations":[` + fmt.Sprintf(op, strings.Repeat("x", 600)) + `]}`, 413, ""},
		{"POST without bulkId", `{"Operations":[{"method":"POST","path":"/Users","data":{}}]}`, 400, "invalidSyntax"},
		{"duplicate bulkId", `{"Operations":[` + fmt.Sprintf(op, "a") + `,` + fmt.Sprintf(op, "a") + `]}`, 400, "invalidSyntax"},
		{"PATCH without id", `{"Operations":[{"method":"PATCH","path":"/Users","data":{}}]}`, 400, "invalidValue"},
		{"path escape", `{"Operations":[{"method":"DELETE","path":"/Users/../Bulk"}]}`, 400, "invalidValue"},
		{"bad failOnErrors", `{"failOnErrors":-1,"Operations":[` + fmt.Sprintf(op, "a") + `]}`, 400, "invalidValue"},
	} {
		resp, out := g.do("POST", "/scim/v2/Bulk", tc.body)
		if resp.StatusCode != tc.want || (tc.scimType != "" && out["scimType"] != tc.scimType) {
			t.Errorf("%s: %d %v", tc.name, resp.StatusCode, out)
		}
	}
	for _, s := range g.requests() {
		if s.method != "GET" {
			t.Fatalf("a refused bulk sent %s %s", s.method, s.path)
		}
	}
	if charged != 0 {
		t.Fatalf("a refused bulk was charged %d", charged)
	}
}

// TestBulkForwardedWhenSupported: an upstream advertising /Bulk gets the
// request as one.
func TestBulkForwardedWhenSupported(t *testing.T) {
	g := newTestGateway(t, bulkUpstream(true), Options{}, 0)
	if resp, out := g.do("POST", "/scim/v2/Bulk", `{"Operations":[{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"a"}}]}`); resp.StatusCode != 200 {
		t.Fatalf("bulk: %d %v", resp.StatusCode, out)
	}
	var sent []string
	for _, s := range g.requests() {
		sent = append(sent, s.method+" "+s.path)
	}
	if !slices.Contains(sent, "POST /scim/Bulk") || slices.Contains(sent, "POST /scim/Users") {
		t.Fatalf("sent %q", sent)
	}
	_, spc := g.do("GET", "/scim/v2/ServiceProviderConfig", "")
	if b := spc["bulk"].(map[string]any); b["supported"] != true || b["maxOperations"] != float64(10) {
		t.Fatalf("spc bulk %v", b)
	}
}
