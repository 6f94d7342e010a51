package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
)

// TestDirectoryRateLimitOverHTTP: a directory's own rate limit, set
// through the admin API, is shared by all its clients (each far under its
// own client limit), answered with 429, Retry-After and the RateLimit
// headers naming the directory's limit; a client of another directory is
// not touched; list and show report the limit.
func TestDirectoryRateLimitOverHTTP(t *testing.T) {
	m := miniredis.RunT(t)
	a := gatewayOn(t, "redis://"+m.Addr())
	_, tokA1 := a.directoryClient("acme", "acme-1")
	c := a.want(201, "POST", "/admin/api/v1/clients", adminTok, map[string]any{"name": "acme-2", "directory": "acme"})
	if c["directory"] == "default" {
		t.Fatal("acme-2 not in acme")
	}
	tokA2 := a.want(201, "POST", "/admin/api/v1/clients/acme-2/tokens", adminTok, map[string]any{})["token"].(string)
	_, tokB := a.directoryClient("globex", "globex-1")

	// A number is requests per second; then a limit per minute so the
	// budget does not refill while the test runs.
	d := a.want(200, "PATCH", "/admin/api/v1/directories/acme", adminTok, map[string]any{"rate_limit": 100, "burst": 200})
	if rl, _ := d["rate_limit"].(map[string]any); rl["rate"] != "100/s" || rl["burst"] != float64(200) {
		t.Fatalf("rate_limit after PATCH: %v", d["rate_limit"])
	}
	a.want(400, "PATCH", "/admin/api/v1/directories/acme", adminTok, map[string]any{"rate_limit": "fast"})
	a.want(200, "PATCH", "/admin/api/v1/directories/acme", adminTok, map[string]any{"rate_limit": "1/m", "burst": 4})
	list := a.want(200, "GET", "/admin/api/v1/directories", adminTok, nil)["directories"].([]any)
	shown := 0
	for _, x := range list {
		d := x.(map[string]any)
		if rl, ok := d["rate_limit"].(map[string]any); ok {
			if d["name"] != "acme" || rl["rate"] != "1/m" || rl["burst"] != float64(4) {
				t.Errorf("list shows %v: %v", d["name"], rl)
			}
			shown++
		}
	}
	if shown != 1 {
		t.Errorf("%d directories listed with a limit, want 1 (acme)", shown)
	}

	for _, tok := range []string{tokA1, tokA2, tokA1, tokA2} {
		a.want(200, "GET", "/scim/v2/Users", tok, nil)
	}
	req, _ := http.NewRequest("GET", a.base+"/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer "+tokA2)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("5th request of acme (burst 4, two clients): %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" || resp.Header.Get("RateLimit-Limit") != "4" || resp.Header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("429 headers: %v", resp.Header)
	}
	if !strings.Contains(string(body), "directory") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/scim+json") {
		t.Errorf("429 does not name the directory's limit: %s %s", resp.Header.Get("Content-Type"), body)
	}
	for range 10 {
		a.want(200, "GET", "/scim/v2/Users", tokB, nil)
	}
	// Back to the default (ratelimit.directory_rate 0: none).
	d = a.want(200, "PATCH", "/admin/api/v1/directories/acme", adminTok, map[string]any{"rate_limit": "default"})
	if _, ok := d["rate_limit"]; ok {
		t.Errorf("rate_limit after default: %v", d["rate_limit"])
	}
}
