package console_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
)

// lastEvent returns the newest audit event.
func (ev *env) lastEvent() audit.Event {
	ev.t.Helper()
	es, _, err := audit.NewLog(ev.r.Client, ev.r.Prefix, 0).Last(ev.t.Context(), 1, audit.Query{})
	if err != nil || len(es) != 1 {
		ev.t.Fatalf("last audit event: %v %v", es, err)
	}
	return es[0]
}

// TestNewClientFormMethodSections: the method-specific settings are in
// fieldsets the script hides (data-method), every one present in the
// HTML so the form works without JavaScript; the scope checkboxes are the
// offered scopes.
func TestNewClientFormMethodSections(t *testing.T) {
	ev := newEnv(t, "")
	ev.signIn()
	ev.svc.SetOfferedScopes([]string{"scim_v2", "scim_v2:read"})
	p := ev.get("/admin/clients/new")
	ev.expect(p, http.StatusOK, `data-method="client_credentials"`, `data-method="idp_jwt"`, `name="issuer"`,
		`value="scim_v2:read"`, `<script src="/admin/static/console.js"`)
	if strings.Contains(p.body, `value="api_v3"`) || strings.Contains(p.body, `value="bcf_v2_1"`) {
		t.Fatal("a scope that is not offered is a checkbox")
	}
}

func TestEditClientSettings(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	ctx := t.Context()
	idp, err := ev.svc.CreateClient(ctx, adminapi.ClientSpec{Name: "kc", Method: "idp_jwt",
		IdPJWTSpec: adminapi.IdPJWTSpec{Issuer: "https://kc.example.com/realms/a", Subject: "sa-1", Audience: "scimgate"}})
	if err != nil {
		t.Fatal(err)
	}
	p := ev.get("/admin/clients/" + idp.ID)
	ev.expect(p, http.StatusOK, `id="edit-idp"`, `value="https://kc.example.com/realms/a"`, `value="sa-1"`, `id="edit-ratelimit"`)
	if strings.Contains(p.body, `id="edit-scopes"`) {
		t.Fatal("an idp_jwt client's page offers allowed scopes")
	}
	form := url.Values{"csrf": {csrf}, "name": {"kc"}, "provider": {""}, "enabled": {"on"},
		"issuer": {"https://kc.example.com/realms/b"}, "subject": {"sa-2"}, "audience": {"scimgate"}, "jwks_url": {""},
		"rate_limit": {"20/s"}, "burst": {"40"}, "scopes": {"api_v3"}}
	p = ev.post("/admin/clients/"+idp.ID, form, nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("save: %d %.1500s", p.status, p.body)
	}
	got, _ := ev.svc.Client(ctx, idp.ID)
	if got.Issuer != "https://kc.example.com/realms/b" || got.Subject != "sa-2" || got.RateLimit == nil ||
		got.RateLimit.Burst != 40 || len(got.AllowedScopes) != 0 {
		t.Fatalf("after save: %+v", got)
	}
	if e := ev.lastEvent(); e.Action != audit.ClientUpdated || strings.Join(e.Changed, ",") != "issuer,rate_limit,subject" {
		t.Fatalf("audit event %+v", e)
	}
	ev.expect(ev.get("/admin/clients/"+idp.ID+"?notice=updated"), http.StatusOK, "Changes saved.",
		`<dd id="client-ratelimit">20/s burst 40</dd>`, `id="rate_limit" name="rate_limit" value="20/s"`, `value="40"`)

	// Refusals keep the input and name the field.
	form.Set("issuer", "http://kc.example.com/realms/b")
	ev.expect(ev.post("/admin/clients/"+idp.ID, form, nil), http.StatusBadRequest, `id="err-issuer"`, `value="http://kc.example.com/realms/b"`)
	form.Set("issuer", "https://kc.example.com/realms/b")
	form.Set("rate_limit", "fast")
	ev.expect(ev.post("/admin/clients/"+idp.ID, form, nil), http.StatusBadRequest, `id="err-rate_limit"`, `value="fast"`)
	form.Set("rate_limit", "")
	ev.expect(ev.post("/admin/clients/"+idp.ID, form, nil), http.StatusBadRequest, `id="err-burst"`)
	form.Set("burst", "")
	ev.expect(ev.post("/admin/clients/"+idp.ID, form, nil), http.StatusSeeOther)
	if got, _ := ev.svc.Client(ctx, idp.ID); got.RateLimit != nil {
		t.Fatalf("an empty rate limit did not return to the default: %+v", got.RateLimit)
	}

	// client_credentials: allowed scopes out of the offered ones.
	m2m, _, err := ev.svc.CreateClientWithSecret(ctx, adminapi.ClientSpec{Name: "m2m", Method: "client_credentials"})
	if err != nil {
		t.Fatal(err)
	}
	ev.svc.SetOfferedScopes([]string{"scim_v2", "scim_v2:read", "scim_v2:users"})
	p = ev.get("/admin/clients/" + m2m.ID)
	ev.expect(p, http.StatusOK, `id="edit-scopes"`, `value="scim_v2" checked`, `value="scim_v2:users"`)
	if strings.Contains(p.body, `id="edit-idp"`) || strings.Contains(p.body, `value="api_v3"`) {
		t.Fatal("the client_credentials page shows IdP settings or an unoffered scope")
	}
	form = url.Values{"csrf": {csrf}, "name": {"m2m"}, "enabled": {"on"}, "scopes": {"scim_v2:read", "scim_v2:users"}, "issuer": {"https://x.example"}}
	ev.expect(ev.post("/admin/clients/"+m2m.ID, form, nil), http.StatusSeeOther)
	if got, _ := ev.svc.Client(ctx, m2m.ID); !slices.Equal(got.AllowedScopes, []string{"scim_v2:read", "scim_v2:users"}) || got.Issuer != "" {
		t.Fatalf("allowed scopes %v issuer %q", got.AllowedScopes, got.Issuer)
	}
	if e := ev.lastEvent(); e.Action != audit.ClientUpdated || strings.Join(e.Changed, ",") != "allowed_scopes" {
		t.Fatalf("audit event %+v", e)
	}
	form["scopes"] = []string{"api_v3"}
	ev.expect(ev.post("/admin/clients/"+m2m.ID, form, nil), http.StatusBadRequest, `id="err-allowed_scopes"`, "not an offered scope")
	delete(form, "scopes")
	ev.expect(ev.post("/admin/clients/"+m2m.ID, form, nil), http.StatusBadRequest, "Tick at least one scope")
}
