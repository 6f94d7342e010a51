package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/ratelimit"
)

// TestServeWiresLimitsAndAudit checks the wiring: SCIM requests carry the
// per-client limit, failed authentications are throttled per address and
// recorded, and the audit route and credential report are mounted.
func TestServeWiresLimitsAndAudit(t *testing.T) {
	cfg := config.Default()
	cfg.Admin.Token = "opadm-serve-security"
	cfg.RateLimit.Rate, cfg.RateLimit.Burst = 1, 2
	cfg.RateLimit.MaxAuthFailures = 2
	base, logs := startGateway(t, cfg)
	m := regexp.MustCompile(`SCIM token:\s+(opst-\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no SCIM token printed:\n%s", logs)
	}
	get := func(path, tok string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	var codes []int
	for range 3 {
		resp := get("/scim/v2/Users", m[1])
		codes = append(codes, resp.StatusCode)
		if resp.Header.Get(ratelimit.HeaderLimit) != "2" {
			t.Errorf("RateLimit-Limit %q, want 2", resp.Header.Get(ratelimit.HeaderLimit))
		}
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != http.StatusTooManyRequests {
		t.Errorf("burst 2 at 1/s: %v", codes)
	}
	codes = codes[:0]
	for range 4 {
		codes = append(codes, get("/scim_v2/Users", "opst-not-a-real-token").StatusCode)
	}
	if codes[0] != 401 || codes[1] != 401 || codes[2] != 401 || codes[3] != http.StatusTooManyRequests {
		t.Errorf("failed authentications with a budget of 2: %v", codes)
	}
	resp := get("/admin/api/v1/audit?action=AUTH_FAILED", cfg.Admin.Token)
	var page audit.Page
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != 200 {
		t.Fatalf("audit: %d %v", resp.StatusCode, err)
	}
	if len(page.Events) != 3 || page.Events[0].SourceIP != "127.0.0.1" || page.Events[0].RequestID == "" {
		t.Errorf("AUTH_FAILED events: %+v", page.Events)
	}
	if got := get("/admin/api/v1/reports/credentials", cfg.Admin.Token).StatusCode; got != 200 {
		t.Errorf("credential report: %d", got)
	}
}
