package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/config"
)

func mget(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsOnMainListener drives the embedded gateway with a good and a
// bad SCIM token and an admin call, then scrapes /metrics.
func TestMetricsOnMainListener(t *testing.T) {
	base, logs := startGateway(t, config.Default())
	text := logs.String()
	scim := regexp.MustCompile(`SCIM token:\s+(opst-\S+)`).FindStringSubmatch(text)
	admin := regexp.MustCompile(`admin API token:\s+(opadm-\S+)`).FindStringSubmatch(text)
	if scim == nil || admin == nil {
		t.Fatalf("no first-run tokens in:\n%s", text)
	}
	if code, _ := mget(t, base+"/scim/v2/Users", scim[1]); code != http.StatusOK {
		t.Fatalf("SCIM with the first-run token: %d", code)
	}
	if code, _ := mget(t, base+"/scim_v2/Users?filter="+strings.ReplaceAll(`userName eq "x"`, " ", "%20"), scim[1]); code != http.StatusOK {
		t.Fatalf("filtered SCIM list: %d", code)
	}
	if code, _ := mget(t, base+"/scim/v2/Users/some-id", "opst-not-a-real-token"); code != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", code)
	}
	code, body := mget(t, base+"/admin/api/v1/clients", admin[1])
	if code != http.StatusOK {
		t.Fatalf("admin list: %d", code)
	}
	id := regexp.MustCompile(`"id":"([^"]+)"`).FindStringSubmatch(body)
	if id == nil {
		t.Fatalf("no client id in %s", body)
	}

	code, metrics := mget(t, base+"/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`scimgate_http_requests_total{client="` + id[1] + `",method="GET",route="/scim/v2/Users",status="200"} 1`,
		`scimgate_http_requests_total{client="` + id[1] + `",method="GET",route="/scim_v2/Users",status="200"} 1`,
		`scimgate_http_requests_total{client="",method="GET",route="/scim/v2/Users/:id",status="401"} 1`,
		`scimgate_http_requests_total{client="",method="GET",route="/admin/api/v1/clients",status="200"} 1`,
		`scimgate_http_request_duration_seconds_count{method="GET",route="/scim/v2/Users"} 1`,
		`scimgate_auth_outcomes_total{mode="static_token",outcome="success",reason=""} 2`,
		`scimgate_auth_outcomes_total{mode="static_token",outcome="rejected",reason="malformed"} 1`,
		`scimgate_redis_command_duration_seconds_bucket{command="evalsha"`,
		`scimgate_credentials_expiring_soon{kind="static_token"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, "some-id") || strings.Contains(metrics, scim[1]) {
		t.Error("a raw path or a token reached a label")
	}
}

// TestMetricsOnSeparateListener serves /metrics only on metrics.listen.
func TestMetricsOnSeparateListener(t *testing.T) {
	cfg := config.Default()
	cfg.Metrics.Listen = "127.0.0.1:" + strconv.Itoa(freePort(t))
	base, _ := startGateway(t, cfg)
	mget(t, base+"/scim/v2/Users", "")
	if code, _ := mget(t, base+"/metrics", ""); code != http.StatusNotFound {
		t.Errorf("/metrics on the main listener: %d, want 404", code)
	}
	code, body := mget(t, "http://"+cfg.Metrics.Listen+"/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics on metrics.listen: %d", code)
	}
	if want := `scimgate_http_requests_total{client="",method="GET",route="/scim/v2/Users",status="401"} 1`; !strings.Contains(body, want) {
		t.Errorf("separate /metrics lacks %s", want)
	}
}

// TestMetricsRequireConfiguredBearer: with metrics.token_hash set, /metrics
// answers 401 without the token or with another one, on either listener.
func TestMetricsRequireConfiguredBearer(t *testing.T) {
	const token = "metrics-scrape-token-0123456789"
	sum := sha256.Sum256([]byte(token))
	for _, separate := range []bool{false, true} {
		cfg := config.Default()
		cfg.Metrics.TokenHash = hex.EncodeToString(sum[:])
		url := ""
		if separate {
			cfg.Metrics.Listen = "127.0.0.1:" + strconv.Itoa(freePort(t))
			url = "http://" + cfg.Metrics.Listen + "/metrics"
		}
		base, _ := startGateway(t, cfg)
		if url == "" {
			url = base + "/metrics"
		}
		for _, bad := range []string{"", "wrong-token", token + "x"} {
			if code, body := mget(t, url, bad); code != http.StatusUnauthorized || strings.Contains(body, "scimgate_") {
				t.Errorf("separate=%v token %q: %d %.80s", separate, bad, code, body)
			}
		}
		if code, body := mget(t, url, token); code != http.StatusOK || !strings.Contains(body, "scimgate_") {
			t.Errorf("separate=%v right token: %d %.80s", separate, code, body)
		}
	}
}
