package console_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/audit"
)

// TestDirectoryEditForm: the directories page edits a directory's name,
// max users and rate limit (CSRF-checked POST, audited DIRECTORY_UPDATED
// with the changed fields); a refused value shows the row's form open with
// the field marked and changes nothing; the default directory keeps its
// name.
func TestDirectoryEditForm(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	d, err := ev.svc.CreateDirectory(t.Context(), adminapiSpec("acme"))
	if err != nil {
		t.Fatal(err)
	}
	r := row(t, ev.get("/admin/directories"), d.ID)
	if !strings.Contains(r, `action="/admin/directories/`+d.ID+`"`) || !strings.Contains(cell(t, r, "rate-limit"), "default") {
		t.Fatalf("row without its edit form: %s", r)
	}

	form := url.Values{"csrf": {csrf}, "name": {"acme-corp"}, "max_users": {"50"}, "rate_limit": {"100"}, "burst": {"200"}}
	if p := ev.post("/admin/directories/"+d.ID, url.Values{"csrf": {"forged"}, "name": {"x"}}, nil); p.status != http.StatusForbidden {
		t.Fatalf("forged CSRF: %d", p.status)
	}
	p := ev.post("/admin/directories/"+d.ID, form, nil)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/admin/directories?notice=updated") {
		t.Fatalf("edit: %d %v", p.status, p.header)
	}
	p = ev.get("/admin/directories?notice=updated")
	ev.expect(p, http.StatusOK, "Changes saved.")
	got, err := ev.svc.Directory(t.Context(), d.ID)
	if err != nil || got.Name != "acme-corp" || got.MaxUsers != 50 || got.RateLimit == nil || got.RateLimit.Rate != "100/s" || got.RateLimit.Burst != 200 {
		t.Fatalf("after the edit: %+v %v", got, err)
	}
	if c := cell(t, row(t, p, d.ID), "rate-limit"); c != "100/s, bursts of 200" {
		t.Errorf("rate limit cell: %q", c)
	}
	evs, err := audit.NewLog(ev.r.Client, ev.r.Prefix, 0).Query(t.Context(), audit.Query{Action: audit.DirectoryUpdated, Limit: 10})
	if err != nil || len(evs.Events) != 1 {
		t.Fatalf("DIRECTORY_UPDATED events: %+v %v", evs.Events, err)
	}
	if ch := evs.Events[0].Changed; !slices.Contains(ch, "name") || !slices.Contains(ch, "max_users") || !slices.Contains(ch, "rate_limit") {
		t.Errorf("audited changes: %v", ch)
	}

	// Refused: the form comes back open on its row, the input kept.
	bad := url.Values{"csrf": {csrf}, "name": {"acme-corp"}, "max_users": {"50"}, "rate_limit": {"fast"}}
	p = ev.post("/admin/directories/"+d.ID, bad, nil)
	ev.expect(p, http.StatusBadRequest, `id="edit-`+d.ID+`" open`, `value="fast"`)
	if got, _ := ev.svc.Directory(t.Context(), d.ID); got.RateLimit == nil || got.RateLimit.Rate != "100/s" {
		t.Fatalf("a refused form changed the limit: %+v", got.RateLimit)
	}
	ev.expect(ev.post("/admin/directories/"+d.ID, url.Values{"csrf": {csrf}, "name": {"acme-corp"}, "max_users": {"-1"}}, nil), http.StatusBadRequest, `id="edit-`+d.ID+`" open`)
	ev.expect(ev.post("/admin/directories/default", url.Values{"csrf": {csrf}, "name": {"renamed"}}, nil), http.StatusBadRequest, "cannot be renamed")

	// Emptying the rate limit returns to the configured default.
	ev.expect(ev.post("/admin/directories/"+d.ID, url.Values{"csrf": {csrf}, "name": {"acme-corp"}, "max_users": {""}}, nil), http.StatusSeeOther)
	if got, _ := ev.svc.Directory(t.Context(), d.ID); got.RateLimit != nil || got.MaxUsers != 0 {
		t.Fatalf("after emptying: %+v", got)
	}
}
