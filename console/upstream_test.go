package console_test

import (
	"bytes"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/sealbox"
)

// TestDirectoryUpstreamPage: a directory's backend page sets its upstream
// (static token, then OAuth client credentials with a CA bundle) and goes
// back to stored; the token, secret and CA are write-only; bad input is
// shown on its field and changes nothing; the form needs the CSRF token;
// each change is audited with the changed field names, never a value;
// the default directory's upstream is the configuration's.
func TestDirectoryUpstreamPage(t *testing.T) {
	ev := newEnv(t, "")
	box, _ := sealbox.New(bytes.Repeat([]byte{9}, sealbox.KeySize))
	ev.svc.SetUpstreamSealer(box)
	csrf := ev.signIn()
	d, err := ev.svc.CreateDirectory(t.Context(), adminapi.DirectorySpec{Name: "op"})
	if err != nil {
		t.Fatal(err)
	}
	path := "/admin/directories/" + d.ID + "/upstream"
	ev.expect(ev.get("/admin/directories"), http.StatusOK, `href="/admin/directories/`+d.ID+`/upstream" class="backend-link"`)
	ev.expect(ev.get(path), http.StatusOK, `id="upstream-form"`, "stored by scimgate", `href="/admin/directories" aria-current="page"`)

	form := url.Values{"csrf": {csrf}, "backend": {"upstream"}, "url": {"https://op.example.com/scim/v2"}, "auth": {"bearer"},
		"timeout": {"3s"}, "max_concurrency": {"8"}}
	if p := ev.post(path, url.Values{"backend": {"upstream"}}, nil); p.status != http.StatusForbidden {
		t.Fatalf("without CSRF: %d", p.status)
	}
	ev.expect(ev.post(path, form, nil), http.StatusBadRequest, `id="err-token"`, `value="https://op.example.com/scim/v2"`)
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("token", "tok-1")
	bad.Set("url", "http://op.example.com/scim")
	ev.expect(ev.post(path, bad, nil), http.StatusBadRequest, `id="err-url"`)
	if got, _ := ev.svc.Directory(t.Context(), d.ID); got.Backend != "stored" {
		t.Fatalf("refused input changed the directory: %+v", got)
	}

	form.Set("token", "static-upstream-token-1")
	p := ev.post(path, form, nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin"+strings.TrimPrefix(path, "/admin")+"?notice=updated" {
		t.Fatalf("save: %d %q %.500s", p.status, p.header.Get("Location"), p.body)
	}
	got, _ := ev.svc.Directory(t.Context(), d.ID)
	if got.Backend != "upstream" || got.Upstream.URL != "https://op.example.com/scim/v2" || !got.Upstream.TokenSealed || got.Upstream.Timeout != "3s" || got.Upstream.MaxConcurrency != 8 {
		t.Fatalf("saved: %+v", got.Upstream)
	}
	p = ev.get(path + "?notice=updated")
	ev.expect(p, http.StatusOK, "Changes saved.", "static bearer token (stored, encrypted)", `id="current-url">https://op.example.com/scim/v2<`)
	if strings.Contains(p.body, "static-upstream-token-1") {
		t.Fatal("the page shows the token")
	}

	// To client credentials with a CA bundle; the secret is required.
	hs := httptest.NewTLSServer(http.NotFoundHandler())
	hs.Close()
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw}))
	cc := url.Values{"csrf": {csrf}, "backend": {"upstream"}, "url": {"https://op.example.com/scim/v2"}, "auth": {"client_credentials"},
		"token_url": {"https://op.example.com/oauth/token"}, "client_id": {"gw"}, "scopes": {"scim.read scim.write"}, "ca": {ca}}
	ev.expect(ev.post(path, cc, nil), http.StatusBadRequest, `id="err-client_secret"`)
	cc.Set("ca", "not a certificate")
	cc.Set("client_secret", "upstream-client-secret-1")
	ev.expect(ev.post(path, cc, nil), http.StatusBadRequest, `id="err-ca"`)
	cc.Set("ca", ca)
	if p := ev.post(path, cc, nil); p.status != http.StatusSeeOther {
		t.Fatalf("client credentials: %d %.800s", p.status, p.body)
	}
	p = ev.get(path)
	ev.expect(p, http.StatusOK, "OAuth 2.0 client credentials (client <code>gw</code>", "a CA bundle of 1 certificate(s)", `value="scim.read scim.write"`)
	if strings.Contains(p.body, "upstream-client-secret-1") || strings.Contains(p.body, strings.Split(ca, "\n")[1]) {
		t.Fatal("the page shows the secret or the CA bundle")
	}
	// Saved again without a secret: it is kept; "system roots" drops the CA.
	cc.Del("client_secret")
	cc.Del("ca")
	cc.Set("clear_ca", "on")
	if p := ev.post(path, cc, nil); p.status != http.StatusSeeOther {
		t.Fatalf("keep the secret: %d %.800s", p.status, p.body)
	}
	got, _ = ev.svc.Directory(t.Context(), d.ID)
	if got.Upstream.Auth != "client_credentials" || !got.Upstream.ClientSecretSet || got.Upstream.CACertificates != 0 || got.Upstream.TokenSet {
		t.Fatalf("after keep: %+v", got.Upstream)
	}
	if p := ev.post(path, url.Values{"csrf": {csrf}, "backend": {"stored"}}, nil); p.status != http.StatusSeeOther {
		t.Fatalf("to stored: %d", p.status)
	}
	if got, _ = ev.svc.Directory(t.Context(), d.ID); got.Backend != "stored" || got.Upstream != nil {
		t.Fatalf("stored: %+v", got)
	}

	events, err := audit.NewLog(ev.r.Client, ev.r.Prefix, 0).Query(t.Context(), audit.Query{Action: audit.DirectoryUpdated})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Events) != 4 {
		t.Fatalf("want 4 DIRECTORY_UPDATED events, got %d", len(events.Events))
	}
	all := ev.logs.String()
	for _, e := range events.Events {
		all += strings.Join(e.Changed, ",") + e.Reason
	}
	for _, want := range []string{"upstream.token", "upstream.client_secret", "upstream.ca"} {
		if !strings.Contains(all, want) {
			t.Fatalf("audit lacks %s: %s", want, all)
		}
	}
	for _, secret := range []string{"static-upstream-token-1", "upstream-client-secret-1"} {
		if strings.Contains(all, secret) {
			t.Fatalf("%s reached the audit or the log", secret)
		}
	}

	// The default directory's upstream is the configuration's.
	ev.expect(ev.get("/admin/directories/default/upstream"), http.StatusOK, `id="config-note"`)
	if p := ev.post("/admin/directories/default/upstream", url.Values{"csrf": {csrf}, "backend": {"upstream"}}, nil); p.status != http.StatusConflict {
		t.Fatalf("default directory: %d", p.status)
	}
}
