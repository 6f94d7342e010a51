package oauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/oauth"
	"github.com/scimgate/scimgate/redistest"
)

// authFailures returns the AUTH_FAILED events recorded so far, after
// closing the open minute of aggregates (as the next minute would).
func (f *fixture) authFailures() []audit.Event {
	f.t.Helper()
	if err := f.failures.Flush(context.Background(), time.Now().Add(time.Minute)); err != nil {
		f.t.Fatal(err)
	}
	p, err := f.events.Query(context.Background(), audit.Query{Action: audit.AuthFailed, Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	return p.Events
}

// TestTokenEndpointAuthFailedAudit: every failed client authentication at
// the token, introspection and revocation endpoints yields exactly one
// AUTH_FAILED aggregate of count 1 with method, precise reason, client
// (when it exists), source address and request id, and never the secret;
// a successful token request yields none.
func TestTokenEndpointAuthFailedAudit(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		f := newFixture(t, r, fixtureOpts{maxFailures: 100})
		id, secret := f.newClient("audited")
		offID, offSecret := f.newClient("switched-off")
		no := false
		if _, err := f.svc.UpdateClient(context.Background(), offID, adminapi.ClientPatch{Enabled: &no}); err != nil {
			t.Fatal(err)
		}
		grant := url.Values{"grant_type": {"client_credentials"}}

		// Success: no event.
		f.token(id, secret)
		resp, _ := f.post(oauth.PathIntrospect, url.Values{"token": {"x"}}, &[2]string{id, secret})
		wantStatus(t, "introspect", resp, http.StatusOK)
		if evs := f.authFailures(); len(evs) != 0 {
			t.Fatalf("successful requests recorded %d AUTH_FAILED events: %+v", len(evs), evs)
		}

		longID := "attacker\n" + strings.Repeat("x", 300)
		withForm := func(v url.Values, kv ...string) url.Values {
			out := url.Values{}
			for k, vs := range v {
				out[k] = vs
			}
			for i := 0; i+1 < len(kv); i += 2 {
				out.Set(kv[i], kv[i+1])
			}
			return out
		}
		cases := []struct {
			name     string
			path     string
			form     url.Values
			basic    *[2]string
			header   []string
			status   int
			reason   string
			clientID string // recorded client ("" = none)
			secret   string // must not appear in the event
		}{
			{name: "wrong secret", path: oauth.PathToken, form: grant, basic: &[2]string{id, "opcs-wrong-secret-1"},
				status: 401, reason: "wrong client secret at /oauth/token", clientID: id, secret: "opcs-wrong-secret-1"},
			{name: "wrong secret, post", path: oauth.PathToken, form: withForm(grant, "client_id", id, "client_secret", "opcs-wrong-secret-2"),
				status: 401, reason: "wrong client secret", clientID: id, secret: "opcs-wrong-secret-2"},
			{name: "disabled client", path: oauth.PathToken, form: grant, basic: &[2]string{offID, offSecret},
				status: 401, reason: "client disabled", clientID: offID, secret: offSecret},
			{name: "unknown client", path: oauth.PathToken, form: grant, basic: &[2]string{longID, "opcs-wrong-secret-3"},
				status: 401, reason: `unknown client (client_id "attacker` + strings.Repeat("x", 56) + `…")`, secret: "opcs-wrong-secret-3"},
			{name: "no credentials", path: oauth.PathToken, form: grant,
				status: 401, reason: "no client credentials"},
			{name: "malformed basic", path: oauth.PathToken, form: grant, header: []string{"Authorization", "Basic !!!"},
				status: 401, reason: "malformed credentials: Basic value is not base64"},
			{name: "both basic and form", path: oauth.PathToken, form: withForm(grant, "client_secret", "opcs-wrong-secret-4"),
				basic: &[2]string{id, secret}, status: 400, reason: "both client_secret_basic and client_secret_post", secret: "opcs-wrong-secret-4"},
			{name: "introspect wrong secret", path: oauth.PathIntrospect, form: url.Values{"token": {"x"}}, basic: &[2]string{id, "opcs-wrong-secret-5"},
				status: 401, reason: "wrong client secret at /oauth/introspect", clientID: id, secret: "opcs-wrong-secret-5"},
			{name: "revoke unknown client", path: oauth.PathRevoke, form: url.Values{"token": {"x"}}, basic: &[2]string{"nobody", "opcs-wrong-secret-6"},
				status: 401, reason: `unknown client (client_id "nobody") at /oauth/revoke`, secret: "opcs-wrong-secret-6"},
		}
		for i, tc := range cases {
			before := len(f.authFailures())
			ip := fmt.Sprintf("203.0.113.%d", i+1)
			reqID := fmt.Sprintf("req-audit-%d", i)
			hdr := append([]string{"X-Forwarded-For", ip, "X-Request-ID", reqID}, tc.header...)
			resp, body := f.post(tc.path, tc.form, tc.basic, hdr...)
			wantStatus(t, tc.name+": "+body, resp, tc.status)
			evs := f.authFailures()
			if len(evs) != before+1 {
				t.Fatalf("%s: %d AUTH_FAILED events, want exactly one", tc.name, len(evs)-before)
			}
			ev := evs[len(evs)-1]
			if ev.Actor.AuthMethod != "client_credentials" || ev.Outcome != audit.OutcomeFailure || ev.Count != 1 ||
				ev.Route != audit.RouteOAuth || ev.Network != ip || ev.SourceIP != ip || ev.RequestID != reqID || ev.Actor.ClientID != tc.clientID {
				t.Errorf("%s: event %+v; want method client_credentials, ip %s, request id %s, client %q", tc.name, ev, ip, reqID, tc.clientID)
			}
			if tc.clientID != "" && (ev.Target.Type != "Client" || ev.Target.ID != tc.clientID) {
				t.Errorf("%s: target %+v, want client %s", tc.name, ev.Target, tc.clientID)
			}
			if !strings.Contains(ev.Reason, tc.reason) {
				t.Errorf("%s: reason %q, want it to contain %q", tc.name, ev.Reason, tc.reason)
			}
			raw, _ := json.Marshal(ev)
			if strings.ContainsAny(ev.Reason, "\n\r") || (tc.secret != "" && strings.Contains(string(raw), tc.secret)) ||
				strings.Contains(string(raw), secret) {
				t.Errorf("%s: event leaks a secret or control characters: %s", tc.name, raw)
			}
		}
	})
}

// TestTokenEndpointAuditBounded: once an address is over its failure
// budget its requests get 429 and are not counted, and the failures that
// are counted arrive as one aggregate per reason.
func TestTokenEndpointAuditBounded(t *testing.T) {
	const max = 3
	f := newFixture(t, redistest.Mini(t), fixtureOpts{maxFailures: max})
	id, _ := f.newClient("guessed")
	grant := url.Values{"grant_type": {"client_credentials"}}
	from := []string{"X-Forwarded-For", "198.51.100.7"}
	for i := 0; i < max; i++ {
		resp, _ := f.post(oauth.PathToken, grant, &[2]string{id, "opcs-guess"}, from...)
		wantStatus(t, "bad secret", resp, http.StatusUnauthorized)
	}
	for i := 0; i < 5; i++ {
		resp, _ := f.post(oauth.PathToken, grant, &[2]string{id, "opcs-guess"}, from...)
		wantStatus(t, "over the budget", resp, http.StatusTooManyRequests)
	}
	// Malformed credentials are charged to the address and limited as well.
	for i := 0; i < 3*oauth.AddressFactor*max; i++ {
		f.post(oauth.PathToken, grant, nil, append(from, "Authorization", "Basic !!!")...)
	}
	evs := f.authFailures()
	var n int64
	for _, e := range evs {
		n += e.Count
	}
	if n != oauth.AddressFactor*max || len(evs) != 2 {
		t.Fatalf("%d failures in %d AUTH_FAILED aggregates from one address, want its budget %d in 2 (one per reason): %+v",
			n, len(evs), oauth.AddressFactor*max, evs)
	}
}

// TestSecretInClientIDSlotIsNotRecorded: a secret sent as client_id (a
// client secret, a SCIM token, or a long random string) reaches neither
// the log nor the audit trail; a fingerprint stands for it.
func TestSecretInClientIDSlotIsNotRecorded(t *testing.T) {
	logs := &lockedLog{}
	f := newFixture(t, redistest.Mini(t), fixtureOpts{maxFailures: 100, log: logs})
	grant := url.Values{"grant_type": {"client_credentials"}}
	secrets := []string{
		"opcs-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"opst-c2VjcmV0LXRva2VuLXZhbHVl",
		"Zk9rQ3VlVzJmN0xxOHh0M1Bmb2d4YVRqN2hVbnNhYWJjZGVmZ2hp",
	}
	for i, secret := range secrets {
		for _, path := range []string{oauth.PathToken, oauth.PathIntrospect, oauth.PathRevoke} {
			form := url.Values{"token": {"x"}}
			if path == oauth.PathToken {
				form = grant
			}
			resp, body := f.post(path, form, &[2]string{secret, "opcs-whatever"}, "X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i+1))
			wantStatus(t, path+": "+body, resp, http.StatusUnauthorized)
		}
	}
	evs := f.authFailures()
	if len(evs) != 9 {
		t.Fatalf("%d AUTH_FAILED aggregates, want 9", len(evs))
	}
	raw, _ := json.Marshal(evs)
	for _, secret := range secrets {
		if strings.Contains(string(raw), secret[:20]) || strings.Contains(logs.String(), secret[:20]) {
			t.Errorf("secret %s… recorded:\n%s\n%s", secret[:10], raw, logs.String())
		}
	}
	if !strings.Contains(evs[0].Reason, `(client_id "sha256:`) {
		t.Errorf("reason %q carries no fingerprint", evs[0].Reason)
	}
}

// lockedLog is a log sink safe for the server's goroutines.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
