package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/ratelimit"
)

// TestServeWiresLimitsAndAudit checks the wiring: SCIM requests carry the
// per-client limit, failed authentications are throttled per address, and the audit route and credential report are mounted.
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
	// Failures are aggregated per minute (TestAuthFailureFloodIsAggregated
	// reads the aggregates); none is appended while its minute is open.
	if len(page.Events) > 2 {
		t.Errorf("AUTH_FAILED events appended one per failure: %+v", page.Events)
	}
	if got := get("/admin/api/v1/reports/credentials", cfg.Admin.Token).StatusCode; got != 200 {
		t.Errorf("credential report: %d", got)
	}
}

// TestAdminCredentialGuessingIsThrottled: wrong admin credentials are
// charged to the source address (admin API and console sign-in share the
// budget), apart from the SCIM budget.
func TestAdminCredentialGuessingIsThrottled(t *testing.T) {
	cfg := config.Default()
	cfg.Admin.Token = "opadm-guessing-test-token"
	cfg.RateLimit.MaxAuthFailures = 3
	base, _ := startGateway(t, cfg)
	do := func(tok string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+"/admin/api/v1/clients", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := do(cfg.Admin.Token); got != 200 {
		t.Fatalf("right token: %d", got)
	}
	var codes []int
	for i := 0; i < 5; i++ {
		codes = append(codes, do(fmt.Sprintf("guess-%d", i)))
	}
	if codes[0] != 401 || codes[2] != 401 || codes[4] != http.StatusTooManyRequests {
		t.Fatalf("guesses with a budget of 3: %v", codes)
	}
	// Blocked addresses are refused before the credential is checked.
	if got := do(cfg.Admin.Token); got != http.StatusTooManyRequests {
		t.Fatalf("right token from a blocked address: %d", got)
	}
	// SCIM requests from the address have their own budget.
	req, _ := http.NewRequest(http.MethodGet, base+"/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer opst-not-a-real-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("SCIM after admin guessing: %d", resp.StatusCode)
	}
}
