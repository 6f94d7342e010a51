package console_test

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/tokenstore"
)

// provision writes n Users and g Groups into directory id as the SCIM
// API does, each with its audit entry in the directory's stream.
func (ev *env) provision(id string, users, groups int) {
	ev.t.Helper()
	st := store.NewRedisTagged(ev.r.Client, ev.r.Prefix, directory.Tag(id))
	for i := range users + groups {
		typ, action := store.TypeUser, audit.UserProvisioned
		attrs := map[string]any{"userName": "user" + string(rune('a'+i))}
		if i >= users {
			typ, action = store.TypeGroup, audit.GroupCreated
			attrs = map[string]any{"displayName": "group" + string(rune('a'+i))}
		}
		j := &store.Journal{Audit: audit.Event{Actor: audit.Actor{ClientID: "idp"}, Target: audit.Target{Type: typ, Name: "r" + string(rune('a'+i))},
			Outcome: audit.OutcomeSuccess}, DocAction: action, Event: "created"}
		if _, err := st.Create(ev.t.Context(), typ, attrs, nil, j); err != nil {
			ev.t.Fatal(err)
		}
	}
}

// row returns the directories list's row of directory id.
func row(t *testing.T, p page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tr id="dir-` + regexp.QuoteMeta(id) + `">(.*?)</tr>`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no row for directory %s: %.2000s", id, p.body)
	}
	return m[1]
}

func cell(t *testing.T, row, class string) string {
	t.Helper()
	m := regexp.MustCompile(`<td class="` + class + `">(.*?)</td>`).FindStringSubmatch(row)
	if m == nil {
		t.Fatalf("no %s cell in %s", class, row)
	}
	return m[1]
}

func TestDirectoriesPageCreateValidatesAndKeepsInput(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	p := ev.get("/admin/directories")
	ev.expect(p, http.StatusOK, `href="/admin/directories" aria-current="page"`, `id="directory-form"`)
	if r := row(t, p, "default"); cell(t, r, "users") != "0" || cell(t, r, "clients") != "0" || strings.Contains(r, "/delete") {
		t.Fatalf("default row: %s", r)
	}

	p = ev.post("/admin/directories", url.Values{"csrf": {csrf}, "name": {"acme"}, "max_users": {"50"}}, nil)
	d, err := ev.svc.Directory(t.Context(), "acme")
	if err != nil || d.MaxUsers != 50 {
		t.Fatalf("created directory: %+v %v", d, err)
	}
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/directories?notice=dircreated#dir-"+d.ID {
		t.Fatalf("create: %d %q", p.status, p.header.Get("Location"))
	}
	ev.expect(ev.get("/admin/directories?notice=dircreated"), http.StatusOK, "Directory created", `id="dir-`+d.ID+`"`, ">50<")

	for _, c := range []struct {
		form  url.Values
		field string
		keep  string
	}{
		{url.Values{"name": {"bad name!"}, "max_users": {"7"}}, "name", `value="bad name!"`},
		{url.Values{"name": {"ACME"}}, "name", "already exists"},
		{url.Values{"name": {"default"}}, "name", ""},
		{url.Values{"name": {"beta"}, "max_users": {"lots"}}, "max_users", `value="lots"`},
		{url.Values{"name": {"beta"}, "max_users": {"-1"}}, "max_users", `value="beta"`},
	} {
		c.form.Set("csrf", csrf)
		p := ev.post("/admin/directories", c.form, nil)
		want := []string{`id="err-` + c.field + `"`, `id="dir-` + d.ID + `"`}
		if c.keep != "" {
			want = append(want, c.keep)
		}
		ev.expect(p, http.StatusBadRequest, want...)
	}
	if p := ev.post("/admin/directories", url.Values{"csrf": {"forged"}, "name": {"beta"}}, nil); p.status != http.StatusForbidden {
		t.Fatalf("forged CSRF: %d", p.status)
	}
	if p := ev.post("/admin/directories", url.Values{"csrf": {csrf}, "name": {"beta"}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); p.status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", p.status)
	}
	if ds, _ := ev.svc.DirectoryChoices(t.Context()); len(ds) != 2 {
		t.Fatalf("directories after refused forms: %+v", ds)
	}
}

func TestClientFormPicksDirectoryAndPagesShowIt(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	d, err := ev.svc.CreateDirectory(t.Context(), adminapiSpec("acme"))
	if err != nil {
		t.Fatal(err)
	}
	ev.expect(ev.get("/admin/clients/new"), http.StatusOK, `<option value="default" selected>default</option>`, `<option value="`+d.ID+`">acme</option>`)
	ev.expect(ev.get("/admin/clients/new?directory=acme"), http.StatusOK, `<option value="`+d.ID+`" selected>acme</option>`)

	// An unknown directory is named on the form, the input kept.
	p := ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {"okta"}, "method": {"static_token"}, "directory": {"nope"}}, nil)
	ev.expect(p, http.StatusBadRequest, `id="err-directory"`, `value="okta"`)
	if cs, _ := ev.svc.ListClients(t.Context()); len(cs) != 0 {
		t.Fatalf("a refused form created a client: %+v", cs)
	}

	p = ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {"okta"}, "method": {"static_token"}, "directory": {d.ID}}, nil)
	ev.expect(p, http.StatusCreated, "will not be shown again")
	ev.createStaticClient(csrf, "entra") // no directory field: the default
	okta, _ := ev.svc.Client(t.Context(), "okta")
	entra, _ := ev.svc.Client(t.Context(), "entra")
	if okta.Directory() != d.ID || entra.Directory() != tokenstore.DefaultDirectory {
		t.Fatalf("directories: okta %q entra %q", okta.Directory(), entra.Directory())
	}
	list := ev.get("/admin/clients")
	ev.expect(list, http.StatusOK)
	if !regexp.MustCompile(`>okta</a></td>\s*<td class="directory">acme</td>`).MatchString(list.body) ||
		!regexp.MustCompile(`>entra</a></td>\s*<td class="directory">default</td>`).MatchString(list.body) {
		t.Fatalf("client list lacks the directories: %.3000s", list.body)
	}
	ev.expect(ev.get("/admin/clients/"+okta.ID), http.StatusOK, `<dd id="client-directory">acme</dd>`)
	ev.expect(ev.get("/admin/clients/"+entra.ID), http.StatusOK, `<dd id="client-directory">default</dd>`)
}

func TestDeleteDirectoryRefusesWithoutForceAndForceDeletesData(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	d, err := ev.svc.CreateDirectory(t.Context(), adminapiSpec("acme"))
	if err != nil {
		t.Fatal(err)
	}
	p := ev.post("/admin/clients", url.Values{"csrf": {csrf}, "name": {"okta"}, "method": {"static_token"}, "directory": {d.ID}}, nil)
	ev.expect(p, http.StatusCreated)
	tok := tokenRE.FindStringSubmatch(p.body)[1]
	list := ev.get("/admin/directories")
	if r := row(t, list, d.ID); cell(t, r, "last-write") != `<span class="muted">none</span>` {
		t.Fatalf("last write before any: %s", r)
	}
	ev.provision(d.ID, 2, 1)

	list = ev.get("/admin/directories")
	r := row(t, list, d.ID)
	if cell(t, r, "users") != "2" || cell(t, r, "groups") != "1" || cell(t, r, "clients") != "1" || !strings.Contains(cell(t, r, "last-write"), "UTC") {
		t.Fatalf("acme row: %s", r)
	}
	if r := row(t, list, "default"); cell(t, r, "users") != "0" || cell(t, r, "last-write") != `<span class="muted">none</span>` {
		t.Fatalf("default row (its stream holds only admin events): %s", r)
	}

	ev.expect(ev.get("/admin/directories/acme/delete"), http.StatusOK, `id="count-clients">1<`, `id="count-users">2<`, `id="count-groups">1<`, `id="force"`)
	// Without force: refused, counts shown, nothing deleted.
	p = ev.post("/admin/directories/"+d.ID+"/delete", url.Values{"csrf": {csrf}}, nil)
	ev.expect(p, http.StatusConflict, `id="refused"`, `id="count-users">2<`)
	if got, err := ev.svc.Directory(t.Context(), d.ID); err != nil || got.Users != 2 || got.Deleting {
		t.Fatalf("after the refusal: %+v %v", got, err)
	}
	if ev.scim(tok) != http.StatusOK {
		t.Fatal("the refused deletion broke the client's token")
	}
	if p := ev.post("/admin/directories/"+d.ID+"/delete", url.Values{"csrf": {"forged"}, "force": {"on"}}, nil); p.status != http.StatusForbidden {
		t.Fatalf("forged CSRF: %d", p.status)
	}

	p = ev.post("/admin/directories/"+d.ID+"/delete", url.Values{"csrf": {csrf}, "force": {"on"}}, nil)
	ev.expect(p, http.StatusOK, `id="deleted"`, "Directory acme deleted with 1 clients, 2 users and 1 groups")
	if strings.Contains(p.body, `id="dir-`+d.ID+`"`) {
		t.Fatal("the deleted directory is still listed")
	}
	if _, err := ev.svc.Directory(t.Context(), d.ID); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("directory after force delete: %v", err)
	}
	if n, _ := store.NewRedisTagged(ev.r.Client, ev.r.Prefix, directory.Tag(d.ID)).Count(t.Context(), store.TypeUser); n != 0 {
		t.Fatalf("%d users left", n)
	}
	if ev.scim(tok) != http.StatusUnauthorized {
		t.Fatal("the deleted directory's client token still works")
	}
	ev.expect(ev.get("/admin/directories/"+d.ID+"/delete"), http.StatusNotFound, "directory does not exist")

	// An empty directory goes without force; the default one never.
	e, _ := ev.svc.CreateDirectory(t.Context(), adminapiSpec("empty"))
	ev.expect(ev.post("/admin/directories/empty/delete", url.Values{"csrf": {csrf}}, nil), http.StatusOK, "Directory empty deleted with 0 clients")
	if _, err := ev.svc.Directory(t.Context(), e.ID); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("empty directory: %v", err)
	}
	ev.expect(ev.get("/admin/directories/default/delete"), http.StatusOK, "cannot be deleted")
	ev.expect(ev.post("/admin/directories/default/delete", url.Values{"csrf": {csrf}, "force": {"on"}}, nil), http.StatusConflict, "cannot be deleted")

	// Both deletions are in the audit trail.
	ev.expect(ev.get("/admin/audit?action=DIRECTORY_DELETED"), http.StatusOK, "force=true clients=1 users=2 groups=1", "force=false clients=0")
}

func TestAuditPageFiltersByDirectory(t *testing.T) {
	ev := newEnv(t, "")
	ev.signIn()
	d, err := ev.svc.CreateDirectory(t.Context(), adminapiSpec("acme"))
	if err != nil {
		t.Fatal(err)
	}
	ev.provision(d.ID, 1, 0)
	p := ev.get("/admin/audit?directory=acme")
	ev.expect(p, http.StatusOK, "SCIM_USER_PROVISIONED", `<option value="`+d.ID+`" selected>acme</option>`)
	if strings.Contains(p.body, "DIRECTORY_CREATED</code>") {
		t.Fatal("the directory's stream shows admin events")
	}
	p = ev.get("/admin/audit")
	ev.expect(p, http.StatusOK, "DIRECTORY_CREATED</code>")
	if strings.Contains(p.body, "SCIM_USER_PROVISIONED</code>") {
		t.Fatal("the default stream shows another directory's SCIM writes")
	}
	ev.expect(ev.get("/admin/audit?directory=nope"), http.StatusBadRequest, `id="err-directory"`, "no directory")
}

func adminapiSpec(name string) adminapi.DirectorySpec { return adminapi.DirectorySpec{Name: name} }
