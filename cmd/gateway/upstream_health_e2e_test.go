package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/config"
)

// readyzBody returns /readyz's status and decoded body.
func readyzBody(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestUpstreamHealthInReadyz: every upstream directory's reachability is
// checked in the background; /readyz reports the unreachable ones as
// degraded (status 200, not unavailable) from the cached results, without
// contacting any upstream itself; scimgate_upstream_up and
// scimgate_upstream_requests_total are exported by directory.
func TestUpstreamHealthInReadyz(t *testing.T) {
	peer, seen := startPeer(t, "peer-token-health")
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	cfg := upstreamConfig(t, peer.URL+"/scim/v2", "peer-token-health")
	cfg.RateLimit.Rate = 0
	cfg.Upstream.HealthInterval = config.Duration(time.Second)
	cfg.Upstream.HealthTimeout = config.Duration(500 * time.Millisecond)
	base, logs := startGateway(t, cfg)
	m := regexp.MustCompile(`admin API token:\s+(opadm-\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("admin token not printed:\n%s", logs)
	}
	admin := &scimClient{t: t, base: base, token: m[1]}
	ids := map[string]string{}
	for name, url := range map[string]string{"live": peer.URL + "/scim/v2", "gone": downURL + "/scim/v2"} {
		code, d := admin.do("POST", "/admin/api/v1/directories", `{"name":"`+name+`","upstream":{"url":"`+url+`","token":"peer-token-health"}}`)
		if code != 201 {
			t.Fatalf("%s: %d %v", name, code, d)
		}
		ids[name] = d["id"].(string)
	}
	var body map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, b := readyzBody(t, base)
		deg, _ := b["degraded"].(map[string]any)
		if s, _ := deg["upstreams"].(string); strings.Contains(s, ids["gone"]+":") {
			if code != 200 || b["status"] != "degraded" {
				t.Fatalf("readyz: %d %v", code, b)
			}
			body = b
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unreachable upstream directory never showed on /readyz: %v", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	deg := body["degraded"].(map[string]any)
	if s := deg["upstreams"].(string); !strings.HasPrefix(s, "1 of 2 upstream directories unreachable") || strings.Contains(s, ids["live"]) || strings.Contains(s, "gone") || strings.Contains(s, "127.0.0.1") {
		t.Fatalf("upstreams: %q", s)
	}
	if _, bad := deg["upstream"]; bad {
		t.Fatalf("the reachable config upstream is reported: %v", deg)
	}
	// /readyz reads the cached results: it sends nothing upstream.
	before := len(seen())
	for range 5 {
		readyzBody(t, base)
	}
	if n := len(seen()) - before; n > 2 { // at most a background round (2 live upstreams) in between
		t.Fatalf("/readyz contacted the upstream %d times", n)
	}
	live := dirClient(t, admin, "live-idp", "live")
	if code, u := live.do("POST", "/scim/v2/Users", newUser("h@live.example")); code != 201 {
		t.Fatalf("create: %d %v", code, u)
	}
	code, metrics := mget(t, base+"/metrics", "")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`scimgate_upstream_up{directory="` + ids["gone"] + `"} 0`,
		`scimgate_upstream_up{directory="` + ids["live"] + `"} 1`,
		`scimgate_upstream_up{directory="default"} 1`,
		`scimgate_upstream_requests_total{class="2xx",directory="` + ids["live"] + `"}`,
		`scimgate_upstream_requests_total{class="error",directory="` + ids["gone"] + `"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestConfigUpstreamDownInReadyz: the configuration's upstream, when
// unreachable, shows as degraded.upstream (status 200) with a safe detail.
func TestConfigUpstreamDownInReadyz(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	cfg := upstreamConfig(t, downURL+"/scim/v2", "tok")
	cfg.Upstream.HealthInterval = config.Duration(time.Second)
	base, _ := startGateway(t, cfg)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, b := readyzBody(t, base)
		deg, _ := b["degraded"].(map[string]any)
		if s, ok := deg["upstream"].(string); ok {
			if code != 200 || s != "the upstream SCIM service is unreachable" || deg["upstreams"] != nil {
				t.Fatalf("readyz: %d %v", code, b)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unreachable upstream never showed on /readyz: %v", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
