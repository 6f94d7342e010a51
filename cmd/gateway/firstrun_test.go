package main

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/redistest"
)

func get(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestEmbeddedModePrintsWorkingCredentialsOnce(t *testing.T) {
	base, out := startGateway(t, config.Default())
	text := out.String()
	admin := regexp.MustCompile(`admin API token:\s+(opadm-\S+)`).FindStringSubmatch(text)
	scim := regexp.MustCompile(`SCIM token:\s+(opst-\S+)`).FindStringSubmatch(text)
	if admin == nil || scim == nil {
		t.Fatalf("no first-run credentials in:\n%s", text)
	}
	if !strings.Contains(text, "curl -H 'Authorization: Bearer "+scim[1]+"' "+base+"/scim/v2/Users") {
		t.Fatalf("no ready curl line for %s:\n%s", base, text)
	}
	if n := strings.Count(text, "first-run credentials"); n != 1 {
		t.Fatalf("banner printed %d times", n)
	}
	// The structured log never carries them: only the banner does.
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "time=") && (strings.Contains(line, scim[1]) || strings.Contains(line, admin[1])) {
			t.Fatalf("token in a log line: %s", line)
		}
	}
	if got := get(t, base+"/scim/v2/Users", scim[1]); got == 401 || got == 403 {
		t.Fatalf("printed SCIM token refused by /scim/v2/Users: %d", got)
	}
	if got := get(t, base+"/admin/api/v1/clients/default", admin[1]); got != 200 {
		t.Fatalf("printed admin token: %d", got)
	}
	if got := get(t, base+"/admin/api/v1/clients", scim[1]); got != 401 {
		t.Fatalf("SCIM token on the admin API: %d", got)
	}
	if got := get(t, base+"/scim/v2/Users", admin[1]); got != 401 {
		t.Fatalf("admin token on SCIM: %d", got)
	}
}

func TestEmbeddedModeKeepsConfiguredAdminToken(t *testing.T) {
	cfg := config.Default()
	cfg.Admin.Token = "opadm-configured"
	base, out := startGateway(t, cfg)
	if strings.Contains(out.String(), "opadm-configured") || !strings.Contains(out.String(), "(from admin.token") {
		t.Fatalf("configured admin token printed or not referred to:\n%s", out)
	}
	if got := get(t, base+"/admin/api/v1/clients", "opadm-configured"); got != 200 {
		t.Fatalf("configured admin token: %d", got)
	}
}

func TestRealRedisWithoutAdminCredentialWarnsAndRefuses(t *testing.T) {
	r := redistest.Real(t)
	cfg := config.Default()
	cfg.Redis.URL, cfg.Redis.Prefix = os.Getenv(redistest.EnvURL), r.Prefix
	base, out := startGateway(t, cfg)
	if !strings.Contains(out.String(), "admin API answers 401") || strings.Contains(out.String(), "opst-") {
		t.Fatalf("want a warning and no credentials:\n%s", out)
	}
	for _, tok := range []string{"", "opadm-x", "anything"} {
		if got := get(t, base+"/admin/api/v1/clients", tok); got != 401 {
			t.Fatalf("admin API with %q: %d", tok, got)
		}
	}
}

// TestAllowListIgnoresForwardedForFromUntrustedPeers: a client cannot pick
// the address an allow-list checks by sending X-Forwarded-For, unless it is
// a configured trusted proxy.
func TestAllowListIgnoresForwardedForFromUntrustedPeers(t *testing.T) {
	for _, tc := range []struct {
		trusted string
		want    int
	}{{"", 401}, {"127.0.0.1/32", 200}} {
		cfg := config.Default()
		cfg.Admin.Token = "opadm-configured"
		cfg.TrustedProxies = tc.trusted
		base, _ := startGateway(t, cfg)
		req, _ := http.NewRequest("POST", base+"/admin/api/v1/clients/default/tokens", strings.NewReader(`{"allow_ips":["10.0.0.0/8"]}`))
		req.Header.Set("Authorization", "Bearer opadm-configured")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Token string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("create token: %d", resp.StatusCode)
		}
		req, _ = http.NewRequest("GET", base+"/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+body.Token)
		req.Header.Set("X-Forwarded-For", "10.1.1.1")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.StatusCode; (tc.want == 401) != (got == 401) {
			t.Fatalf("trusted_proxies=%q: X-Forwarded-For inside the allow-list gave %d, want %d", tc.trusted, got, tc.want)
		}
	}
}
