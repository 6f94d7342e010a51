package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/webhook"
)

// TestServeDeliversWebhooks runs the whole gateway (embedded Redis) with a
// webhook configured: a deactivation through /scim/v2 reaches it signed,
// within 1s, and the secret appears in no log line.
func TestServeDeliversWebhooks(t *testing.T) {
	const secret = "serve-test-webhook-secret"
	got := make(chan webhook.Event, 100)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify([]byte(secret), r.Header.Get(webhook.HeaderSignature), r.Header.Get(webhook.HeaderTimestamp), body, time.Now(), time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		var ev webhook.Event
		_ = json.Unmarshal(body, &ev)
		got <- ev
	}))
	defer hook.Close()

	cfg := config.Default()
	cfg.Webhooks.URLs = hook.URL + "/events"
	cfg.Webhooks.Secret = secret
	base, logs := startGateway(t, cfg)
	scim := regexp.MustCompile(`SCIM token:\s+(opst-\S+)`).FindStringSubmatch(logs.String())
	if scim == nil {
		t.Fatalf("no SCIM token in:\n%s", logs)
	}
	send := func(method, path, body string, want int) map[string]any {
		req, _ := http.NewRequest(method, base+"/scim/v2"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+scim[1])
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
		}
		return out
	}
	user := send("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"leaver@example.com"}`, 201)
	id, _ := user["id"].(string)
	send("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`, 200)
	deadline := time.After(time.Second)
	for {
		select {
		case ev := <-got:
			if ev.Type == "user.deactivated" && ev.ID == id {
				if strings.Contains(logs.String(), secret) {
					t.Fatal("webhook secret in the logs")
				}
				return
			}
		case <-deadline:
			t.Fatalf("no user.deactivated for %s within 1s; logs:\n%s", id, logs)
		}
	}
}
