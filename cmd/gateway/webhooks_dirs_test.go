package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/webhook"
)

// hookEvents is a webhook receiver collecting verified events.
func hookEvents(t *testing.T, secret string) (string, chan webhook.Event) {
	got := make(chan webhook.Event, 1000)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify([]byte(secret), r.Header.Get(webhook.HeaderSignature), r.Header.Get(webhook.HeaderTimestamp), body, time.Now(), time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		var ev webhook.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("body: %v", err)
		}
		got <- ev
	}))
	t.Cleanup(hook.Close)
	return hook.URL, got
}

// webhookDirsGateway starts a gateway delivering to a fresh receiver, with
// webhooks.directories set to only, and creates the directories acme and
// globex (after the start) with a client each; each gets three users at
// once. It returns the receiver's events and the expected
// "<directory>/<user id>" per directory, in creation order.
func webhookDirsGateway(t *testing.T, only string) (chan webhook.Event, map[string][]string, map[string]string) {
	const secret = "directories-webhook-secret"
	url, got := hookEvents(t, secret)
	cfg := config.Default()
	cfg.Redis.URL = "redis://" + miniredis.RunT(t).Addr()
	cfg.Admin.Token = adminTok
	cfg.Webhooks.URLs = url
	cfg.Webhooks.Secret = secret
	cfg.Webhooks.Directories = only
	base, _ := startGateway(t, cfg)
	a := api{t: t, base: base}
	want := map[string][]string{}
	names := map[string]string{}
	for _, dir := range []string{"acme", "globex"} {
		id, tok := a.directoryClient(dir, dir+"-idp")
		names[id] = dir
		for i := range 3 {
			uid := a.want(201, "POST", "/scim/v2/Users", tok, user(fmt.Sprintf("%s-%d", dir, i)))["id"].(string)
			want[id] = append(want[id], uid)
		}
	}
	return got, want, names
}

// collect reads user.created events until n arrived or timeout passed,
// then waits quiet for more; it returns the user ids per directory id,
// checking the directory name in each payload.
func collect(t *testing.T, got chan webhook.Event, names map[string]string, n int, timeout, quiet time.Duration) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	count := 0
	deadline := time.After(timeout)
	for {
		wait := deadline
		if count >= n {
			wait = time.After(quiet)
		}
		select {
		case ev := <-got:
			if ev.Type != "user.created" {
				continue
			}
			if names[ev.Directory.ID] != ev.Directory.Name {
				t.Fatalf("event %s names directory %+v", ev.DeliveryID, ev.Directory)
			}
			out[ev.Directory.ID] = append(out[ev.Directory.ID], ev.ID)
			count++
		case <-wait:
			return out
		}
	}
}

// TestWebhookDeliversEveryDirectory: directories created through the admin
// API after the gateway started are delivered (their first events
// included) within a few seconds (the directory list is read every 5 s),
// in order per directory, each event naming its directory.
func TestWebhookDeliversEveryDirectory(t *testing.T) {
	got, want, names := webhookDirsGateway(t, "")
	res := collect(t, got, names, 6, 10*time.Second, 300*time.Millisecond)
	for id, w := range want {
		if !slices.Equal(res[id], w) {
			t.Fatalf("directory %s: got %v, want %v (all: %v)", names[id], res[id], w, res)
		}
	}
}

// TestWebhookLimitedToDirectory: with webhooks.directories=ACME (a name,
// case-insensitive) only acme's events are delivered.
func TestWebhookLimitedToDirectory(t *testing.T) {
	got, want, names := webhookDirsGateway(t, "ACME")
	res := collect(t, got, names, 3, 10*time.Second, time.Second)
	var acme string
	for id, n := range names {
		if n == "acme" {
			acme = id
		}
	}
	if len(res) != 1 || !slices.Equal(res[acme], want[acme]) {
		t.Fatalf("got %v, want only acme's %v", res, want[acme])
	}
}
