package upstream

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
)

// seenRequest is what the test upstream saw of one request.
type seenRequest struct {
	method, path string
	header       http.Header
	body         string
}

// testGateway is a Forwarder on the real HTTP stack in front of an
// httptest upstream whose answers the test writes.
type testGateway struct {
	t    *testing.T
	url  string // scimgate's base, e.g. http://127.0.0.1:1234
	up   *httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

func (g *testGateway) requests() []seenRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]seenRequest(nil), g.seen...)
}

// newTestGateway starts the upstream (answering with h under /scim) and a
// gin engine serving the Forwarder at /scim/v2 for a principal with the
// scim_v2 scope.
func newTestGateway(t *testing.T, h http.HandlerFunc, opts Options, timeout time.Duration) *testGateway {
	t.Helper()
	g := &testGateway{t: t}
	g.up = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.seen = append(g.seen, seenRequest{r.Method, r.URL.Path, r.Header.Clone(), string(raw)})
		g.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(raw)))
		h(w, r)
	}))
	t.Cleanup(g.up.Close)
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	client, err := NewClient(Config{URL: g.up.URL + "/scim", Token: "upstream-token", Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	e := gin.New()
	rg := e.Group("/scim/v2", func(c *gin.Context) {
		p := &auth.Principal{ClientID: "idp", Method: auth.MethodStaticToken, Scopes: []string{auth.ScopeSCIM}, CredentialID: "tok1"}
		c.Request = c.Request.WithContext(auth.WithPrincipal(c.Request.Context(), p))
	})
	New(client, opts).Register(rg)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	g.url = srv.URL
	return g
}

// do sends a request to scimgate and returns the response with its body.
func (g *testGateway) do(method, path, body string, header ...string) (*http.Response, map[string]any) {
	g.t.Helper()
	req, err := http.NewRequest(method, g.url+path, strings.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer caller-secret")
	if body != "" {
		req.Header.Set("Content-Type", mediaType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

// scimJSON answers status with body as SCIM JSON.
func scimJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// TestCallerHeadersNeverForwarded: the upstream gets scimgate's credential
// and the conditional/Accept headers only; the caller's Authorization,
// cookies, hop-by-hop and forwarding headers stay at scimgate.
func TestCallerHeadersNeverForwarded(t *testing.T) {
	g := newTestGateway(t, func(w http.ResponseWriter, r *http.Request) {
		scimJSON(w, 200, `{"id":"1","userName":"a"}`)
	}, Options{}, 0)
	resp, _ := g.do("GET", "/scim/v2/Users/1", "",
		"Cookie", "session=caller", "Proxy-Authorization", "Basic x", "Connection", "X-Secret-Hop", "X-Secret-Hop", "1",
		"Keep-Alive", "timeout=5", "Te", "trailers", "X-Forwarded-For", "10.0.0.1", "X-Forwarded-Host", "evil.example",
		"X-Forwarded-Proto", "http", "Forwarded", "for=10.0.0.1", "X-Real-Ip", "10.0.0.1",
		"Accept", "application/scim+json", "If-None-Match", `W/"3"`, "If-Match", `W/"2"`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	seen := g.requests()
	if len(seen) != 1 {
		t.Fatalf("%d upstream requests", len(seen))
	}
	h := seen[0].header
	if got := h.Get("Authorization"); got != "Bearer upstream-token" {
		t.Fatalf("upstream Authorization %q", got)
	}
	for _, name := range []string{"Cookie", "Proxy-Authorization", "X-Secret-Hop", "Keep-Alive", "Te", "X-Forwarded-For",
		"X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "X-Real-Ip"} {
		if v := h.Get(name); v != "" {
			t.Errorf("%s forwarded: %q", name, v)
		}
	}
	for name, want := range map[string]string{"Accept": "application/scim+json", "If-None-Match": `W/"3"`, "If-Match": `W/"2"`} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, r := range seen {
		for k, vs := range r.header {
			if strings.Contains(strings.Join(vs, " "), "caller-secret") {
				t.Fatalf("the caller's token reached the upstream in %s", k)
			}
		}
	}
}

// TestLocationsRewritten: Location, meta.location and $ref under the
// upstream's base point at scimgate's public URL (RFC 7644 §3.1); other
// URLs are left alone.
func TestLocationsRewritten(t *testing.T) {
	var upBase string
	h := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", upBase+"/Groups/g1")
		w.Header().Set("ETag", `W/"1"`)
		scimJSON(w, 201, `{"id":"g1","displayName":"Eng","meta":{"location":"`+upBase+`/Groups/g1","version":"W/\"1\""},
			"members":[{"value":"u1","$ref":"`+upBase+`/Users/u1"},{"value":"x","$ref":"https://elsewhere.example/scim/Users/x"}]}`)
	}
	for _, tc := range []struct{ public, want string }{{"", ""}, {"https://scim.example.com/", "https://scim.example.com"}} {
		g := newTestGateway(t, h, Options{PublicURL: tc.public}, 0)
		upBase = g.up.URL + "/scim"
		want := tc.want
		if want == "" {
			want = g.url
		}
		want += "/scim/v2"
		resp, out := g.do("POST", "/scim/v2/Groups", `{"displayName":"Eng"}`)
		if resp.StatusCode != 201 || resp.Header.Get("ETag") != `W/"1"` {
			t.Fatalf("status %d etag %q", resp.StatusCode, resp.Header.Get("ETag"))
		}
		if got := resp.Header.Get("Location"); got != want+"/Groups/g1" {
			t.Fatalf("Location %q, want %s/Groups/g1", got, want)
		}
		if got := out["meta"].(map[string]any)["location"]; got != want+"/Groups/g1" {
			t.Fatalf("meta.location %v", got)
		}
		members := out["members"].([]any)
		if got := members[0].(map[string]any)["$ref"]; got != want+"/Users/u1" {
			t.Fatalf("$ref %v", got)
		}
		if got := members[1].(map[string]any)["$ref"]; got != "https://elsewhere.example/scim/Users/x" {
			t.Fatalf("foreign $ref rewritten: %v", got)
		}
	}
}

// TestUpstreamFailuresMapped: upstream 5xx, timeouts, connection errors,
// non-JSON answers and a refused gateway credential become SCIM errors
// (RFC 7644 §3.12) with a safe detail; 4xx SCIM errors pass through.
func TestUpstreamFailuresMapped(t *testing.T) {
	for _, tc := range []struct {
		name       string
		h          http.HandlerFunc
		want       int
		retryAfter string
		scimType   string
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { scimJSON(w, 500, `{"detail":"panic at db.go:12"}`) }, 502, "", ""},
		{"502", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) }, 502, "", ""},
		{"503", func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Retry-After", "7"); w.WriteHeader(503) }, 503, "7", ""},
		{"504", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(504) }, 504, "", ""},
		{"401", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }, 502, "", ""},
		{"html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html>login</html>")
		}, 502, "", ""},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
		}, 504, "", ""},
		{"4xx passes", func(w http.ResponseWriter, r *http.Request) {
			scimJSON(w, 409, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"taken"}`)
		}, 409, "", "uniqueness"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newTestGateway(t, tc.h, Options{}, 300*time.Millisecond)
			resp, out := g.do("POST", "/scim/v2/Users", `{"userName":"a"}`)
			if resp.StatusCode != tc.want || out["status"] != strconv.Itoa(tc.want) {
				t.Fatalf("got %d %v, want %d", resp.StatusCode, out, tc.want)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, mediaType) {
				t.Fatalf("Content-Type %q", ct)
			}
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Fatalf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if out["scimType"] != nil && out["scimType"] != tc.scimType {
				t.Fatalf("scimType %v", out["scimType"])
			}
			d, _ := out["detail"].(string)
			if strings.Contains(d, "127.0.0.1") || strings.Contains(d, "db.go") {
				t.Fatalf("detail leaks upstream internals: %q", d)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		g := newTestGateway(t, func(http.ResponseWriter, *http.Request) {}, Options{}, 0)
		g.up.Close()
		resp, out := g.do("GET", "/scim/v2/Users/1", "")
		if resp.StatusCode != 502 || out["status"] != "502" || strings.Contains(out["detail"].(string), "127.0.0.1") {
			t.Fatalf("got %d %v", resp.StatusCode, out)
		}
	})
}

// TestConcurrencyLimit: beyond MaxConcurrency requests in flight upstream,
// scimgate answers 503 with Retry-After instead of queueing.
func TestConcurrencyLimit(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	g := newTestGateway(t, func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		scimJSON(w, 200, `{"id":"1"}`)
	}, Options{MaxConcurrency: 1}, 5*time.Second)
	first := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", g.url+"/scim/v2/Users/1", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-entered
	resp, out := g.do("GET", "/scim/v2/Users/2", "")
	close(release)
	if resp.StatusCode != 503 || out["status"] != "503" || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("second request: %d %v Retry-After %q", resp.StatusCode, out, resp.Header.Get("Retry-After"))
	}
	if code := <-first; code != 200 {
		t.Fatalf("first request: %d", code)
	}
	if n := len(g.requests()); n != 1 {
		t.Fatalf("%d requests reached the upstream, want 1", n)
	}
}
