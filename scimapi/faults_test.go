package scimapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/redistest"
)

// TestRedisTroubleIs503 checks that every kind of Redis error reply a
// request can meet is answered 503 with Retry-After and a SCIM error body
// (RFC 7644 §3.12), never 500, on reads and writes.
func TestRedisTroubleIs503(t *testing.T) {
	r := redistest.Mini(t)
	e := newEnv(t, r, false)
	id := e.must(e.do("POST", "/scim/v2/Users", map[string]any{"userName": "ada"}), http.StatusCreated).body["id"].(string)
	for _, reply := range []string{
		"OOM command not allowed when used memory > 'maxmemory'.",
		"LOADING Redis is loading the dataset in memory",
		"READONLY You can't write against a read only replica.",
		"MASTERDOWN Link with MASTER is down",
		"CLUSTERDOWN The cluster is down",
		"TRYAGAIN Multiple keys request during rehashing of slot",
	} {
		r.Mini.SetError(reply)
		for _, req := range []struct{ method, path string }{{"GET", "/scim/v2/Users/" + id}, {"POST", "/scim/v2/Users"}, {"GET", "/scim/v2/Users?filter=userName%20eq%20%22ada%22"}} {
			var body any
			if req.method == "POST" {
				body = map[string]any{"userName": "bob"}
			}
			got := e.do(req.method, req.path, body)
			wantError(t, got, http.StatusServiceUnavailable, "")
			if got.hdr.Get("Retry-After") == "" {
				t.Fatalf("%s %s under %q: no Retry-After", req.method, req.path, reply)
			}
			if strings.HasPrefix(reply, "OOM") && !strings.HasPrefix(got.body["detail"].(string), "storage is full") {
				t.Fatalf("OOM detail: %s", got.raw)
			}
		}
	}
	r.Mini.SetError("")
	e.must(e.do("GET", "/scim/v2/Users/"+id, nil), http.StatusOK)
}
