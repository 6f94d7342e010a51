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

func TestIntrospectionAndRevocation(t *testing.T) {
	f := newFixture(t, redistest.Mini(t), fixtureOpts{})
	a, aSecret := f.newClient("a")
	b, bSecret := f.newClient("b")
	tok := f.token(a, aSecret)
	introspect := func(id, secret string) map[string]any {
		resp, body := f.post(oauth.PathIntrospect, url.Values{"token": {tok}}, &[2]string{id, secret})
		wantStatus(t, "introspect "+body, resp, http.StatusOK)
		var out map[string]any
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := introspect(a, aSecret)
	if got["active"] != true || got["client_id"] != a || got["scope"] != "scim_v2" || got["iss"] != f.iss {
		t.Fatalf("own token: %v", got)
	}
	if got := introspect(b, bSecret); len(got) != 1 || got["active"] != false {
		t.Fatalf("another client's token: %v", got)
	}
	// Introspection needs client authentication.
	resp, _ := f.post(oauth.PathIntrospect, url.Values{"token": {tok}}, nil)
	wantStatus(t, "unauthenticated introspection", resp, http.StatusUnauthorized)

	// Another client cannot revoke it (200, no effect); unknown tokens get 200.
	resp, _ = f.post(oauth.PathRevoke, url.Values{"token": {tok}}, &[2]string{b, bSecret})
	wantStatus(t, "revoke other's token", resp, http.StatusOK)
	if introspect(a, aSecret)["active"] != true {
		t.Fatal("another client revoked the token")
	}
	resp, _ = f.post(oauth.PathRevoke, url.Values{"token": {"not-a-token"}}, &[2]string{a, aSecret})
	wantStatus(t, "revoke unknown token", resp, http.StatusOK)
	resp, _ = f.post(oauth.PathRevoke, url.Values{"token": {tok}, "token_type_hint": {"refresh_token"}}, &[2]string{a, aSecret})
	wantStatus(t, "revoke own token", resp, http.StatusOK)
	if introspect(a, aSecret)["active"] != false {
		t.Fatal("revoked token still active")
	}
}

func TestMetadata(t *testing.T) {
	f := newFixture(t, redistest.Mini(t), fixtureOpts{})
	resp, err := http.Get(f.iss + oauth.PathMetadata)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"issuer": f.iss, "token_endpoint": f.iss + "/oauth/token", "jwks_uri": f.iss + "/.well-known/jwks.json",
		"introspection_endpoint": f.iss + "/oauth/introspect", "revocation_endpoint": f.iss + "/oauth/revoke",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %s", k, m[k], v)
		}
	}
	if g, _ := json.Marshal(m["grant_types_supported"]); string(g) != `["client_credentials"]` {
		t.Errorf("grant_types_supported %s", g)
	}
	if g, _ := json.Marshal(m["token_endpoint_auth_methods_supported"]); string(g) != `["client_secret_basic","client_secret_post"]` {
		t.Errorf("auth methods %s", g)
	}
	// RFC 8414 §2: every *_values_supported member present is a JSON array
	// (no private_key_jwt/client_secret_jwt, so no signing algs: no member).
	for k, v := range m {
		if strings.HasSuffix(k, "_supported") {
			if _, ok := v.([]any); !ok {
				t.Errorf("%s = %v, want a JSON array", k, v)
			}
		}
	}
}
