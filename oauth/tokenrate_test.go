package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/scimgate/scimgate/oauth"
	"github.com/scimgate/scimgate/redistest"
)

// TestTokenRatePerClient: successful token requests beyond oauth.token_rate
// per minute get 429 with Retry-After, Cache-Control: no-store and an RFC
// 6749 error body; other clients keep their own budget, and the budget
// refills at rate/minute. miniredis moves TIME inside scripts with SetTime.
func TestTokenRatePerClient(t *testing.T) {
	r := redistest.Mini(t)
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	r.Mini.SetTime(start)
	f := newFixture(t, r, fixtureOpts{tokenRate: 3})
	id, secret := f.newClient("busy")
	otherID, otherSecret := f.newClient("quiet")
	grant := url.Values{"grant_type": {"client_credentials"}}

	for range 3 {
		resp, body := f.post(oauth.PathToken, grant, &[2]string{id, secret})
		wantStatus(t, "token within the rate: "+body, resp, http.StatusOK)
	}
	resp, body := f.post(oauth.PathToken, grant, &[2]string{id, secret})
	wantStatus(t, "4th token in a minute at 3/min", resp, http.StatusTooManyRequests)
	if got := resp.Header.Get("Retry-After"); got != "20" { // one token per 20s
		t.Errorf("Retry-After %q, want 20", got)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
	var e map[string]string
	if err := json.Unmarshal([]byte(body), &e); err != nil || e["error"] != "invalid_request" || e["error_description"] != "too many token requests" {
		t.Errorf("429 body %s (%v), want invalid_request / too many token requests", body, err)
	}
	// A wrong secret is an authentication failure, not a token request:
	// it gets 401 and is not turned into 429 by the token rate.
	resp, _ = f.post(oauth.PathToken, grant, &[2]string{id, "opcs-wrong"})
	wantStatus(t, "wrong secret over the token rate", resp, http.StatusUnauthorized)

	resp, _ = f.post(oauth.PathToken, grant, &[2]string{otherID, otherSecret})
	wantStatus(t, "another client", resp, http.StatusOK)

	r.Mini.SetTime(start.Add(20 * time.Second))
	resp, body = f.post(oauth.PathToken, grant, &[2]string{id, secret})
	wantStatus(t, "after 20s: "+body, resp, http.StatusOK)
	resp, _ = f.post(oauth.PathToken, grant, &[2]string{id, secret})
	wantStatus(t, "second token after 20s", resp, http.StatusTooManyRequests)
}

// TestTokenRateEveryBackend: the same limit on every backend (no clock
// control on a real server: only the first refusal is checked).
func TestTokenRateEveryBackend(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		f := newFixture(t, r, fixtureOpts{tokenRate: 2})
		id, secret := f.newClient("busy")
		grant := url.Values{"grant_type": {"client_credentials"}}
		for range 2 {
			resp, body := f.post(oauth.PathToken, grant, &[2]string{id, secret})
			wantStatus(t, "within the rate: "+body, resp, http.StatusOK)
		}
		resp, _ := f.post(oauth.PathToken, grant, &[2]string{id, secret})
		wantStatus(t, "over the rate", resp, http.StatusTooManyRequests)
		if resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	})
}

// TestTokenRateZeroIsUnlimited: oauth.token_rate 0 sets no limit.
func TestTokenRateZeroIsUnlimited(t *testing.T) {
	l, err := oauth.NewTokenRateLimiter(nil, "p:", 0, false)
	if err != nil || l != nil {
		t.Fatalf("rate 0: %v, %v; want no limiter", l, err)
	}
	if _, ok, err := l.Allow(t.Context(), "any"); !ok || err != nil {
		t.Fatalf("nil limiter refused: %v", err)
	}
	if _, err := oauth.NewTokenRateLimiter(nil, "p:", -1, false); err == nil {
		t.Fatal("negative rate accepted")
	}
}
