package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/redistest"
)

// TestRunsUnderKeyPrefixACL runs the gateway against a real Redis as a user
// whose ACL allows only keys matching ~<redis.prefix>*, and drives the
// SCIM API (static token and OAuth access token), the token endpoint, the
// admin API and failed authentications on all of them. Any key written
// outside the prefix (the rate limiters' included) would be refused with
// NOPERM and show up as a 5xx or a logged error.
func TestRunsUnderKeyPrefixACL(t *testing.T) {
	r := redistest.Real(t)
	ctx := context.Background()
	user := "scimgate-acl-" + strings.Trim(strings.ReplaceAll(r.Prefix, ":", "-"), "-")
	if err := r.Client.Do(ctx, "ACL", "SETUSER", user, "reset", "on", ">acl-test-password", "~"+r.Prefix+"*", "&*", "+@all").Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	t.Cleanup(func() { r.Client.Do(context.Background(), "ACL", "DELUSER", user) })
	u, err := url.Parse(os.Getenv(redistest.EnvURL))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, "acl-test-password")

	cfg := config.Default()
	cfg.Redis.URL, cfg.Redis.Prefix = u.String(), r.Prefix
	cfg.Admin.Token = "opadm-acl-test-admin-token"
	cfg.RateLimit.OnRedisError = "deny"
	base, logs := startGateway(t, cfg)

	do := func(method, path, auth, ctype string, body io.Reader, want int) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, body)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s\n%.3000s", method, path, resp.StatusCode, want, b, logs)
		}
		return b
	}
	admin := "Bearer " + cfg.Admin.Token
	jsonBody := func(v any) io.Reader { b, _ := json.Marshal(v); return bytes.NewReader(b) }

	// Admin API: a static-token client with a token, a client-credentials client.
	var cl struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(do("POST", "/admin/api/v1/clients", admin, "application/json", jsonBody(map[string]string{"name": "acl-static"}), 201), &cl)
	var tok struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal(do("POST", "/admin/api/v1/clients/"+cl.ID+"/tokens", admin, "application/json", jsonBody(map[string]string{"name": "t1"}), 201), &tok)
	var cc struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	_ = json.Unmarshal(do("POST", "/admin/api/v1/clients", admin, "application/json",
		jsonBody(map[string]string{"name": "acl-cc", "method": "client_credentials"}), 201), &cc)
	if tok.Token == "" || cc.ClientSecret == "" {
		t.Fatalf("no credentials created: %+v %+v", tok, cc)
	}

	// SCIM with the static token (per-client GCRA limiter on every request).
	scim := "application/scim+json"
	do("POST", "/scim/v2/Users", "Bearer "+tok.Token, scim, strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"acl@example.com"}`), 201)
	do("GET", "/scim/v2/Users?filter=userName%20eq%20%22acl@example.com%22", "Bearer "+tok.Token, "", nil, 200)

	// Token endpoint (token-rate GCRA), then SCIM with the access token.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {cc.ClientID}, "client_secret": {cc.ClientSecret}}
	var at struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(do("POST", "/oauth/token", "", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), 200), &at)
	do("GET", "/scim/v2/Groups", "Bearer "+at.AccessToken, "", nil, 200)

	// Failed authentications everywhere: charged and aggregated under the
	// prefix; with on_redis_error=deny a NOPERM would answer 503.
	for range 3 {
		do("GET", "/scim/v2/Users", "Bearer opst-wrong", "", nil, 401)
		do("GET", "/admin/api/v1/clients", "Bearer opadm-wrong-admin-token", "", nil, 401)
		bad := url.Values{"grant_type": {"client_credentials"}, "client_id": {cc.ClientID}, "client_secret": {"opcs-wrong"}}
		do("POST", "/oauth/token", "", "application/x-www-form-urlencoded", strings.NewReader(bad.Encode()), 401)
	}
	// The aggregates reach the stream as the ACL user writes them.
	events := audit.NewLog(r.Client, r.Prefix, 0)
	if err := audit.NewFailures(r.Client, r.Prefix, events, 0).Flush(ctx, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	do("GET", "/admin/api/v1/audit?action=AUTH_FAILED", admin, "", nil, 200)
	if n := len(authFailedEvents(t, events)); n < 3 {
		t.Errorf("%d AUTH_FAILED aggregates, want one per route at least", n)
	}
	if strings.Contains(logs.String(), "NOPERM") {
		t.Fatalf("a key outside %s* was used:\n%s", r.Prefix, logs)
	}
}
