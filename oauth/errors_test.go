package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/oauth"
	"github.com/scimgate/scimgate/redistest"
)

// TestTokenEndpointErrors: every RFC 6749 §5.2 error the endpoint gives,
// with its status, challenge and no-store headers.
func TestTokenEndpointErrors(t *testing.T) {
	f := newFixture(t, redistest.Mini(t), fixtureOpts{maxFailures: 1000})
	id, secret := f.newClient("idp", "scim_v2", "scim_v2:read")
	cc := url.Values{"grant_type": {"client_credentials"}}
	with := func(v url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = append([]string(nil), vs...)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	good := &[2]string{id, secret}
	cases := []struct {
		name      string
		form      url.Values
		basic     *[2]string
		header    []string
		status    int
		code      string
		challenge bool
	}{
		{"wrong secret basic", cc, &[2]string{id, lastCharChanged(secret)}, nil, 401, "invalid_client", true},
		{"wrong secret post", with(cc, "client_id", id, "client_secret", "opcs-nope"), nil, nil, 401, "invalid_client", true},
		{"unknown client", cc, &[2]string{"00000000-0000-0000-0000-000000000000", secret}, nil, 401, "invalid_client", true},
		{"no credentials", cc, nil, nil, 401, "invalid_client", true},
		{"bearer instead of basic", cc, nil, []string{"Authorization", "Bearer x"}, 401, "invalid_client", true},
		{"basic and post", with(cc, "client_id", id, "client_secret", secret), good, nil, 400, "invalid_request", false},
		{"missing grant_type", url.Values{}, good, nil, 400, "invalid_request", false},
		{"repeated parameter", with(cc, "scope", "scim_v2", "scope", "scim_v2"), good, nil, 400, "invalid_request", false},
		{"password grant", url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}, good, nil, 400, "unsupported_grant_type", false},
		{"refresh grant", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"r"}}, good, nil, 400, "unsupported_grant_type", false},
		{"authorization_code grant", url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "redirect_uri": {"http://x"}}, good, nil, 400, "unsupported_grant_type", false},
		{"scope not allowed", with(cc, "scope", "api_v3"), good, nil, 400, "invalid_scope", false},
		{"unknown scope", with(cc, "scope", "admin"), good, nil, 400, "invalid_scope", false},
		{"json body", nil, good, []string{"Content-Type", "application/json"}, 400, "invalid_request", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.post(oauth.PathToken, tc.form, tc.basic, tc.header...)
			wantStatus(t, tc.name+": "+body, resp, tc.status)
			var e struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error != tc.code {
				t.Fatalf("body %s, want error %s", body, tc.code)
			}
			if got := resp.Header.Get("WWW-Authenticate"); (got != "") != tc.challenge || (tc.challenge && !strings.HasPrefix(got, "Basic ")) {
				t.Fatalf("WWW-Authenticate %q", got)
			}
			if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
				t.Fatalf("cache headers %v", resp.Header)
			}
			if strings.Contains(body, secret) {
				t.Fatal("secret echoed")
			}
		})
	}
	// The query string never carries parameters.
	req, _ := http.NewRequest(http.MethodPost, f.iss+oauth.PathToken+"?grant_type=client_credentials", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantStatus(t, "grant_type in the query", resp, http.StatusBadRequest)
}

// TestBasicCredentialsAreURLDecoded: RFC 6749 §2.3.1 form-encodes the
// Basic user and password; a client id with reserved characters is not
// possible here, but an encoded secret must still match.
func TestBasicCredentialsAreURLDecoded(t *testing.T) {
	f := newFixture(t, redistest.Mini(t), fixtureOpts{})
	id, secret := f.newClient("enc")
	req, _ := http.NewRequest(http.MethodPost, f.iss+oauth.PathToken, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// Percent-encode every character of the id: a decoder must undo it.
	var enc strings.Builder
	for _, b := range []byte(id) {
		enc.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[b>>4])+string("0123456789abcdef"[b&15])))
	}
	req.SetBasicAuth(enc.String(), secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantStatus(t, "percent-encoded client id", resp, http.StatusOK)
}

// TestFailedAuthenticationsAreLimited: the 11th bad secret within the
// window gets 429 with Retry-After, and so does the right secret then;
// another address for another client is unaffected.
func TestFailedAuthenticationsAreLimited(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		f := newFixture(t, r, fixtureOpts{maxFailures: 10})
		id, secret := f.newClient("victim")
		for i := 0; i < 10; i++ {
			resp, _ := f.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}}, &[2]string{id, "opcs-guess"})
			wantStatus(t, "bad secret", resp, http.StatusUnauthorized)
		}
		resp, body := f.post(oauth.PathToken, url.Values{"grant_type": {"client_credentials"}}, &[2]string{id, secret})
		wantStatus(t, "after 10 failures", resp, http.StatusTooManyRequests)
		if resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `"error"`) {
			t.Fatalf("429 without Retry-After or error body: %v %s", resp.Header, body)
		}
		// Introspection and revocation share the limit.
		resp, _ = f.post(oauth.PathIntrospect, url.Values{"token": {"x"}}, &[2]string{id, secret})
		wantStatus(t, "introspect while limited", resp, http.StatusTooManyRequests)
	})
}

// lastCharChanged returns s with its last character replaced by a
// different one (a fixed replacement would equal s one time in 62).
func lastCharChanged(s string) string {
	last := s[len(s)-1]
	repl := byte('x')
	if last == repl {
		repl = 'y'
	}
	return s[:len(s)-1] + string(repl)
}
