package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimgate/scimgate/config"
)

// BenchmarkUpstreamGetUserRatio measures a forwarded GET /Users/{id}
// through scimgate (static-token authentication, scope check, rate limit,
// forwarding, location rewriting) against the same request sent directly
// to the upstream (an elimity-com/scim server on loopback), alternating
// the two in one run, and reports both latencies and their ratio
// (gateway-ns/op ÷ upstream-ns/op; the goal is under 1.3).
// Sub-benchmark "ratelimit" keeps the per-client rate limit on (one Redis
// script per request, on the embedded Redis); "nolimit" turns it off;
// "ratelimit-upstream2ms" has the upstream take 2 ms per answer.
func BenchmarkUpstreamGetUserRatio(b *testing.B) {
	for _, v := range []struct {
		name    string
		limited bool
		delay   time.Duration
	}{{"nolimit", false, 0}, {"ratelimit", true, 0}, {"ratelimit-upstream2ms", true, 2 * time.Millisecond}} {
		b.Run(v.name, func(b *testing.B) { benchGetUserRatio(b, v.limited, v.delay) })
	}
}

// benchGetUserRatio runs one variant; delay is added to the upstream's
// every answer (an application doing real work behind its SCIM API).
func benchGetUserRatio(b *testing.B, limited bool, delay time.Duration) {
	const peerToken = "bench-upstream-token"
	// A lean upstream: the elimity-com/scim server behind a bearer check,
	// without the request log of the tests' peer.
	var h atomic.Value
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+peerToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if delay > 0 {
			time.Sleep(delay)
		}
		http.StripPrefix("/scim", h.Load().(http.Handler)).ServeHTTP(w, r)
	}))
	b.Cleanup(peer.Close)
	h.Store(elimityPeer(b, peer.URL+"/scim/v2"))
	tokFile := filepath.Join(b.TempDir(), "token")
	if err := os.WriteFile(tokFile, []byte(peerToken), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg := config.Default()
	cfg.Log.Level = "error"
	cfg.Upstream.URL = peer.URL + "/scim/v2"
	cfg.Upstream.TokenFile = tokFile
	cfg.Upstream.HealthInterval = config.Duration(time.Hour)
	cfg.RateLimit.Rate = 0
	if limited {
		cfg.RateLimit.Rate, cfg.RateLimit.Burst = 1e6, 1e6
	}
	base, logs := startGateway(b, cfg)
	m := regexp.MustCompile(`SCIM token:\s+(opst-\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		b.Fatalf("no SCIM token printed:\n%s", logs)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	call := func(method, url, token, body string) (int, string) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, url, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(raw)
	}
	code, body := call("POST", base+"/scim/v2/Users", m[1], newUser("bench@example.com"))
	id := regexp.MustCompile(`"id":"([^"]+)"`).FindStringSubmatch(body)
	if code != 201 || id == nil {
		b.Fatalf("create: %d %s", code, body)
	}
	viaGateway, direct := base+"/scim/v2/Users/"+id[1], peer.URL+"/scim/v2/Users/"+id[1]
	for range 50 { // warm connections and caches
		call("GET", viaGateway, m[1], "")
		call("GET", direct, peerToken, "")
	}
	var gw, up time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if code, body := call("GET", viaGateway, m[1], ""); code != 200 {
			b.Fatalf("via gateway: %d %s", code, body)
		}
		t1 := time.Now()
		if code, body := call("GET", direct, peerToken, ""); code != 200 {
			b.Fatalf("direct: %d %s", code, body)
		}
		gw, up = gw+t1.Sub(t0), up+time.Since(t1)
	}
	b.StopTimer()
	b.ReportMetric(float64(gw.Nanoseconds())/float64(b.N), "gateway-ns/op")
	b.ReportMetric(float64(up.Nanoseconds())/float64(b.N), "upstream-ns/op")
	b.ReportMetric(float64(gw)/float64(up), "ratio")
}
