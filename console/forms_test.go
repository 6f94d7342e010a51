package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestStateChangingFormsNeedCSRFAndSameOrigin(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	form := func(tok string) url.Values {
		return url.Values{"csrf": {tok}, "name": {"okta"}, "method": {"static_token"}}
	}
	cases := []struct {
		name string
		form url.Values
		hdr  map[string]string
	}{
		{"no token", url.Values{"name": {"okta"}}, nil},
		{"wrong token", form(otherToken(csrf)), nil},
		{"cross-site fetch", form(csrf), map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"same-site fetch", form(csrf), map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"foreign origin", form(csrf), map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": ""}},
		{"opaque origin", form(csrf), map[string]string{"Origin": "null", "Sec-Fetch-Site": ""}},
	}
	for _, c := range cases {
		p := ev.post("/admin/clients", c.form, c.hdr)
		if p.status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", c.name, p.status)
		}
	}
	if cs, _ := ev.svc.ListClients(t.Context()); len(cs) != 0 {
		t.Fatalf("a refused form created a client: %v", cs)
	}
	// Under Referrer-Policy no-referrer browsers send "Origin: null" on
	// same-origin form POSTs, which would refuse every form.
	if rp := ev.get("/admin/clients").header.Get("Referrer-Policy"); rp != "same-origin" {
		t.Fatalf("Referrer-Policy %q", rp)
	}
	// Each kind of state-changing route checks the token.
	id, tok := ev.createStaticClient(csrf, "okta")
	for _, path := range []string{"/admin/clients/" + id, "/admin/clients/" + id + "/delete", "/admin/clients/" + id + "/tokens", "/admin/logout"} {
		if p := ev.post(path, url.Values{"csrf": {"forged"}, "name": {"x"}}, nil); p.status != http.StatusForbidden {
			t.Errorf("POST %s with a forged token: %d", path, p.status)
		}
	}
	if ev.scim(tok) != http.StatusOK {
		t.Fatal("the token stopped working after refused forms")
	}
	if strings.Contains(ev.logs.String(), csrf) {
		t.Fatal("the CSRF token was logged")
	}
}

func TestCreateClientValidationKeepsInput(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	ev.expect(ev.get("/admin/clients/new"), http.StatusOK, `value="static_token" checked`, `value="scim_v2" checked`)

	p := ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {"bad name!"}, "provider": {"Keycloak EU"}, "method": {"static_token"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-name"`, `value="bad name!"`, `value="Keycloak EU"`)

	p = ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {"x"}, "method": {"carrier_pigeon"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-method"`)

	p = ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {"kc"}, "provider": {"line\x01break"}, "method": {"static_token"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-provider"`, "control characters")

	// idp_jwt: the missing issuer is named, the typed subject and audience stay.
	p = ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {"kc"}, "method": {"idp_jwt"},
		"subject": {"0b7c-service-account"}, "audience": {"scimgate"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-issuer"`, `value="0b7c-service-account"`, `value="scimgate"`, `value="idp_jwt" checked`)
	p = ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {"kc"}, "method": {"idp_jwt"},
		"issuer": {"http://idp.example.com"}, "subject": {"s"}, "audience": {"a"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-issuer"`, "loopback")
	p = ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {"kc"}, "method": {"idp_jwt"},
		"issuer": {"https://idp.example.com"}, "audience": {"a"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-subject"`)

	// client_credentials: unknown scope.
	p = ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {"cc"}, "method": {"client_credentials"}, "scopes": {"root"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-scopes"`)

	// A taken name.
	ev.createStaticClient(csrf, "entra")
	p = ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {"entra"}, "provider": {"Entra ID"}, "method": {"static_token"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-name"`, "already exists", `value="Entra ID"`)

	if cs, _ := ev.svc.ListClients(t.Context()); len(cs) != 1 {
		t.Fatalf("clients after refused forms: %d, want 1", len(cs))
	}
}

func TestTokenIsShownOnceAndNeverAgain(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	p := ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {"entra"}, "provider": {"Entra ID"}, "method": {"static_token"}}, nil)
	ev.expect(p, http.StatusCreated, "will not be shown again", `data-copy="secret-token"`)
	if cc := p.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q on the one-time page", cc)
	}
	if p.header.Get("Location") != "" {
		t.Fatal("the one-time page must not be a redirect")
	}
	tok := tokenRE.FindStringSubmatch(p.body)[1]
	if ev.scim(tok) != http.StatusOK {
		t.Fatal("the shown token does not open SCIM")
	}
	c, _ := ev.svc.Client(t.Context(), "entra")
	show := ev.get("/admin/clients/" + c.ID)
	ev.expect(show, http.StatusOK, "initial", `<span class="label active">active</span>`, "scim_v2")
	for _, path := range []string{"/admin/clients", "/admin/clients/" + c.ID, "/admin/audit"} {
		if strings.Contains(ev.get(path).body, tok) {
			t.Fatalf("%s shows the token again", path)
		}
	}
	if strings.Contains(ev.logs.String(), tok) {
		t.Fatal("the token was logged")
	}

	// A second token through "+ Token".
	ev.expect(ev.get("/admin/clients/"+c.ID+"/tokens/new"), http.StatusOK, `value="scim_v2" checked`, `value="1y" checked`, "3 months")
	p = ev.post("/admin/clients/"+c.ID+"/tokens", url.Values{"csrf": {csrf}, "name": {"reader"}, "scopes": {"scim_v2:read", "api_v3"}, "expires": {"7d"}}, nil)
	ev.expect(p, http.StatusCreated, "will not be shown again", "scim_v2:read api_v3")
	if p.header.Get("Cache-Control") != "no-store" {
		t.Fatal("token page may be cached")
	}
	tok2 := tokenRE.FindStringSubmatch(p.body)[1]
	listing := ev.get("/admin/clients/" + c.ID).body
	if tok2 == tok || strings.Contains(listing, tok2) {
		t.Fatal("second token repeated or shown again")
	}
	// Each token is listed by its prefix and last four characters only.
	for _, x := range []string{tok, tok2} {
		if hint := "opst-…" + x[len(x)-4:]; !strings.Contains(listing, `<code class="token-hint">`+hint+`</code>`) {
			t.Errorf("client page lacks the hint %s", hint)
		}
	}
}

func TestTokenFormValidationKeepsInput(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	id, _ := ev.createStaticClient(csrf, "okta")
	path := "/admin/clients/" + id + "/tokens"
	p := ev.post(path, url.Values{"csrf": {csrf}, "name": {"nightly"}, "expires": {"7d"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-scopes"`, `value="nightly"`, `value="7d" checked`)
	p = ev.post(path, url.Values{"csrf": {csrf}, "name": {"nightly"}, "scopes": {"api_v3"}, "expires": {"2w"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-expires"`, `value="api_v3" checked`)
	p = ev.post(path, url.Values{"csrf": {csrf}, "name": {"nightly"}, "scopes": {"scim_v2"}, "expires": {"1mo"}, "allow_ips": {"10.0.0.0/8, not-an-ip"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-allow_ips"`, `value="10.0.0.0/8, not-an-ip"`, `value="1mo" checked`)
	p = ev.post(path, url.Values{"csrf": {csrf}, "name": {strings.Repeat("n", 101)}, "scopes": {"scim_v2"}, "expires": {"1d"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-name"`)
	if ts, _ := ev.svc.ListTokens(t.Context(), id); len(ts) != 1 {
		t.Fatalf("tokens after refused forms: %d, want the initial one", len(ts))
	}
	// A non-static client has no tokens to create.
	ccID := createClientCredentials(t, ev, csrf, "cc")
	p = ev.post("/admin/clients/"+ccID+"/tokens", url.Values{"csrf": {csrf}, "scopes": {"scim_v2"}, "expires": {"1d"}}, nil)
	ev.expect(p, http.StatusBadRequest, "does not use static tokens")
}

func TestEditClientValidationKeepsInputAndSaves(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	id, tok := ev.createStaticClient(csrf, "okta")
	ev.createStaticClient(csrf, "entra")
	path := "/admin/clients/" + id
	p := ev.post(path, url.Values{"csrf": {csrf}, "name": {"no spaces"}, "provider": {"Okta prod"}, "enabled": {"on"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-name"`, `value="no spaces"`, `value="Okta prod"`)
	p = ev.post(path, url.Values{"csrf": {csrf}, "name": {"entra"}, "provider": {"Okta prod"}, "enabled": {"on"}}, nil)
	ev.expect(p, http.StatusBadRequest, "already exists", `value="Okta prod"`)

	// Disabling (checkbox unticked) stops the client's tokens.
	p = ev.post(path, url.Values{"csrf": {csrf}, "name": {"okta-prod"}, "provider": {"Okta"}}, nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != path+"?notice=updated" {
		t.Fatalf("save: %d %s", p.status, p.header.Get("Location"))
	}
	ev.expect(ev.get(path+"?notice=updated"), http.StatusOK, "Changes saved.", `value="okta-prod"`, "disabled")
	c, _ := ev.svc.Client(t.Context(), id)
	if c.Name != "okta-prod" || c.Provider != "Okta" || c.Enabled {
		t.Fatalf("client after edit: %+v", c)
	}
	if ev.scim(tok) != http.StatusUnauthorized {
		t.Fatal("a disabled client's token still works")
	}
}

func TestDeleteAndRevokeAskFirst(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	id, tok := ev.createStaticClient(csrf, "okta")
	ts, _ := ev.svc.ListTokens(t.Context(), id)
	revoke := "/admin/clients/" + id + "/tokens/" + ts[0].ID + "/revoke"
	ev.expect(ev.get(revoke), http.StatusOK, "Revoke token initial?", `id="confirm"`)
	if ev.scim(tok) != http.StatusOK {
		t.Fatal("showing the confirmation revoked the token")
	}
	p := ev.post(revoke, url.Values{"csrf": {csrf}}, nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", p.status)
	}
	if ev.scim(tok) != http.StatusUnauthorized {
		t.Fatal("revoked token still works")
	}
	ev.expect(ev.get("/admin/clients/"+id+"?notice=revoked"), http.StatusOK, `<span class="label revoked">revoked</span>`, "Token revoked")

	del := "/admin/clients/" + id + "/delete"
	ev.expect(ev.get(del), http.StatusOK, "Delete SCIM client okta", `id="confirm"`)
	if _, err := ev.svc.Client(t.Context(), id); err != nil {
		t.Fatal("showing the confirmation deleted the client")
	}
	p = ev.post(del, url.Values{"csrf": {csrf}}, nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/clients?notice=deleted" {
		t.Fatalf("delete: %d %s", p.status, p.header.Get("Location"))
	}
	ev.expect(ev.get("/admin/clients/"+id), http.StatusNotFound, "does not exist")
}

func createClientCredentials(t *testing.T, ev *env, csrf, name string) string {
	t.Helper()
	p := ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {name}, "method": {"client_credentials"}, "scopes": {"scim_v2"}}, nil)
	ev.expect(p, http.StatusCreated, `id="client-secret"`, "will not be shown again")
	c, err := ev.svc.Client(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func TestClientSecretShownOnceAndRotated(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	p := ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {"pingfed"}, "method": {"client_credentials"}, "scopes": {"scim_v2"}}, nil)
	ev.expect(p, http.StatusCreated, `id="client-id"`, `id="client-secret"`)
	if p.header.Get("Cache-Control") != "no-store" {
		t.Fatal("secret page may be cached")
	}
	secret := secretRE.FindStringSubmatch(p.body)[1]
	c, _ := ev.svc.Client(t.Context(), "pingfed")
	page := ev.get("/admin/clients/" + c.ID)
	ev.expect(page, http.StatusOK, "Rotate client secret", "OAuth 2.0 client credentials")
	if strings.Contains(page.body, secret) {
		t.Fatal("client page shows the secret")
	}
	ev.expect(ev.get("/admin/clients/"+c.ID+"/rotate-secret"), http.StatusOK, "stops working at once")
	p = ev.post("/admin/clients/"+c.ID+"/rotate-secret", url.Values{"csrf": {csrf}}, nil)
	ev.expect(p, http.StatusOK, "New client secret for pingfed", "will not be shown again")
	if s2 := secretRE.FindStringSubmatch(p.body)[1]; s2 == secret {
		t.Fatal("rotation returned the same secret")
	}
	if strings.Contains(ev.logs.String(), secret) {
		t.Fatal("secret logged")
	}
	// A static client has no secret to rotate.
	id, _ := ev.createStaticClient(csrf, "okta")
	p = ev.post("/admin/clients/"+id+"/rotate-secret", url.Values{"csrf": {csrf}}, nil)
	ev.expect(p, http.StatusConflict, "does not use client_credentials")
}

func TestAuditPageFilters(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	id, _ := ev.createStaticClient(csrf, "okta")
	ev.createStaticClient(csrf, "entra")
	p := ev.get("/admin/audit?action=CLIENT_CREATED&target=okta")
	ev.expect(p, http.StatusOK, "CLIENT_CREATED", "okta", `<option value="CLIENT_CREATED" selected>`)
	if strings.Contains(p.body, "Client entra") {
		t.Fatal("target filter ignored")
	}
	ev.expect(ev.get("/admin/audit?action=TOKEN_CREATED&target="+id), http.StatusOK, "No events match")
	ev.expect(ev.get("/admin/audit?since=24h"), http.StatusOK, "Client okta", "Client entra", "console_admin_token")
	p = ev.get("/admin/audit?since=last+tuesday&action=CLIENT_CREATED")
	ev.expect(p, http.StatusBadRequest, `id="err-since"`, `value="last tuesday"`, `<option value="CLIENT_CREATED" selected>`)
	ev.expect(ev.get("/admin/audit?cursor=bogus"), http.StatusBadRequest, "malformed")
}

// otherToken returns tok with its last character changed (a fixed
// replacement would equal tok one time in 64).
func otherToken(tok string) string {
	repl := "x"
	if tok[len(tok)-1] == 'x' {
		repl = "y"
	}
	return tok[:len(tok)-1] + repl
}
