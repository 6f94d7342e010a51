package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/scimapi/store"
)

// seedUsers creates n users user000… in st (displayName "User N",
// externalId ext-N) plus the extra userNames, and returns their ids by
// userName.
func seedUsers(t *testing.T, st store.Store, n int, extra ...string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	add := func(attrs map[string]any) {
		r, err := st.Create(t.Context(), store.TypeUser, attrs, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids[attrs["userName"].(string)] = r.ID
	}
	for i := range n {
		add(map[string]any{"userName": fmt.Sprintf("user%03d", i), "displayName": fmt.Sprintf("User %d", i),
			"externalId": fmt.Sprintf("ext-%03d", i), "active": i%2 == 0})
	}
	for _, u := range extra {
		add(map[string]any{"userName": u})
	}
	return ids
}

// browseEnv signs in to a console with directory acme and returns
// acme's store.
func browseEnv(t *testing.T) (*env, adminapi.DirectoryJSON, store.Store) {
	t.Helper()
	ev := newEnv(t, "")
	ev.signIn()
	d, err := ev.svc.CreateDirectory(t.Context(), adminapiSpec("acme"))
	if err != nil {
		t.Fatal(err)
	}
	return ev, d, store.NewRedisTagged(ev.r.Client, ev.r.Prefix, directory.Tag(d.ID))
}

var summaryRE = regexp.MustCompile(`id="paging-summary">([^<]*)<`)

// listed returns the paging summary and the number of rows of a list page.
func listed(t *testing.T, p page) (string, int) {
	t.Helper()
	m := summaryRE.FindStringSubmatch(p.body)
	if m == nil {
		return "", strings.Count(p.body, `<tr id="res-`)
	}
	return m[1], strings.Count(p.body, `<tr id="res-`)
}

func TestBrowserListsSearchesAndPagesUsers(t *testing.T) {
	ev, d, st := browseEnv(t)
	const xss = `<script>alert(1)</script>`
	const quoted = `a"b\c`
	seedUsers(t, st, 120, xss, quoted)
	// Another directory's users are never shown.
	seedUsers(t, store.NewRedisTagged(ev.r.Client, ev.r.Prefix, directory.Tag(directory.DefaultID)), 3)

	r := row(t, ev.get("/admin/directories"), d.ID)
	if !strings.Contains(r, `href="/admin/directories/`+d.ID+`/users"`) || !strings.Contains(r, `href="/admin/directories/`+d.ID+`/groups"`) {
		t.Fatalf("no browser links in the directory row: %s", r)
	}

	base := "/admin/directories/" + d.ID + "/users"
	p := ev.get(base)
	ev.expect(p, http.StatusOK, `href="/admin/directories" aria-current="page"`, `id="next-page" href="?start=51"`)
	if sum, n := listed(t, p); sum != "1–50 of 122" || n != 50 {
		t.Fatalf("first page: %q, %d rows", sum, n)
	}
	if strings.Contains(p.body, "prev-page") {
		t.Fatal("the first page links to a previous one")
	}
	p = ev.get(base + "?start=101")
	ev.expect(p, http.StatusOK, `id="prev-page" href="?start=51"`)
	if sum, n := listed(t, p); sum != "101–122 of 122" || n != 22 || strings.Contains(p.body, "next-page") {
		t.Fatalf("last page: %q, %d rows", sum, n)
	}
	ev.expect(ev.get(base+"?start=500"), http.StatusOK, `id="past-end"`, "last of the 122 results", `id="prev-page" href="?start=101"`)
	// The userName is data: escaped, never markup.
	if !strings.Contains(p.body, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(p.body, xss) {
		t.Fatalf("the <script> userName is not escaped: %.3000s", p.body)
	}

	for _, c := range []struct {
		q, summary string
		rows       int
	}{
		{"user01", "1–10 of 10", 10},                  // userName sw
		{"User 11", "1–11 of 11", 11},                 // displayName sw: 11, 110-119
		{"ext-007", "1–1 of 1", 1},                    // externalId eq
		{"ext-00", "", 0},                             // externalId is eq, not sw
		{quoted, "1–1 of 1", 1},                       // quote and backslash are data
		{`x" or userName pr or userName eq "`, "", 0}, // no filter injection
		{"nobody", "", 0},
	} {
		p := ev.get(base + "?q=" + url.QueryEscape(c.q))
		ev.expect(p, http.StatusOK)
		if sum, n := listed(t, p); sum != c.summary || n != c.rows {
			t.Fatalf("search %q: %q, %d rows: %.3000s", c.q, sum, n, p.body)
		}
		if c.rows == 0 {
			ev.expect(p, http.StatusOK, `id="no-results"`)
		}
	}
	ev.expect(ev.get(base+"?q="+url.QueryEscape(quoted)), http.StatusOK, `userName sw &#34;a\&#34;b\\c&#34;`)
	// Paging keeps the search.
	p = ev.get(base + "?q=user")
	ev.expect(p, http.StatusOK, `id="next-page" href="?q=user&amp;start=51"`)
	if sum, _ := listed(t, ev.get(base+"?q=user&start=101")); sum != "101–120 of 120" {
		t.Fatalf("searched last page: %q", sum)
	}

	// The SCIM filter limits apply: a search making the filter too long is
	// refused with the SCIM layer's message, and nothing listed.
	p = ev.get(base + "?q=" + strings.Repeat("x", browseFilterMax/3))
	ev.expect(p, http.StatusBadRequest, `id="err-q"`, fmt.Sprintf("exceeds %d bytes", browseFilterMax))
	if _, n := listed(t, p); n != 0 {
		t.Fatalf("a refused search listed %d rows", n)
	}

	ev.expect(ev.get("/admin/directories/nope/users"), http.StatusNotFound, "directory does not exist")
	ev.expect(ev.get("/admin/directories/nope/groups"), http.StatusNotFound, "directory does not exist")
}

func TestBrowserUserAndGroupPages(t *testing.T) {
	ev, d, st := browseEnv(t)
	ids := seedUsers(t, st, 120)
	alice, err := st.Create(t.Context(), store.TypeUser, map[string]any{
		"userName": "alice", "externalId": "e-alice", "title": `<img src=x onerror=alert(1)>`,
		"emails": []any{map[string]any{"value": "alice@example.com", "primary": true}},
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var members []store.Member
	for i := range 120 {
		members = append(members, store.Member{Value: ids[fmt.Sprintf("user%03d", i)], Type: store.TypeUser})
	}
	big, err := st.Create(t.Context(), store.TypeGroup, map[string]any{"displayName": "Everyone"}, members, nil)
	if err != nil {
		t.Fatal(err)
	}
	admins, err := st.Create(t.Context(), store.TypeGroup, map[string]any{"displayName": "Admins <b>", "externalId": "g-admins"},
		[]store.Member{{Value: alice.ID, Type: store.TypeUser}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetRoles(t.Context(), map[string]string{alice.ID: "admin"}, "", 0); err != nil {
		t.Fatal(err)
	}

	// Groups list and search.
	gbase := "/admin/directories/" + d.ID + "/groups"
	p := ev.get(gbase)
	ev.expect(p, http.StatusOK, `href="`+gbase+`/`+big.ID+`">Everyone</a>`, "Admins &lt;b&gt;")
	if sum, n := listed(t, p); sum != "1–2 of 2" || n != 2 {
		t.Fatalf("groups: %q %d", sum, n)
	}
	for q, want := range map[string]int{"Adm": 1, "g-admins": 1, "user": 0} {
		if _, n := listed(t, ev.get(gbase+"?q="+url.QueryEscape(q))); n != want {
			t.Fatalf("group search %q: %d rows", q, n)
		}
	}

	// A user's page: attributes escaped, groups linked, effective role.
	p = ev.get("/admin/directories/" + d.ID + "/users/" + alice.ID)
	ev.expect(p, http.StatusOK, `<code id="resource-id">`+alice.ID+`</code>`, `id="effective-role">admin<`,
		`href="`+gbase+`/`+admins.ID+`">Admins &lt;b&gt;</a>`, "e-alice", "alice@example.com", `&#34;primary&#34;: true`,
		"&lt;img src=x onerror=alert(1)&gt;")
	if strings.Contains(p.body, "<img src=x") || strings.Contains(p.body, "Admins <b>") {
		t.Fatal("attribute values are rendered as markup")
	}
	ev.expect(ev.get("/admin/directories/"+d.ID+"/users/"+ids["user005"]), http.StatusOK, `id="effective-role"><span class="muted">none</span>`,
		`href="`+gbase+`/`+big.ID+`">Everyone</a>`)

	// A group's page pages its members.
	gp := gbase + "/" + big.ID
	p = ev.get(gp)
	ev.expect(p, http.StatusOK, `id="next-page" href="?start=51"`, `href="/admin/directories/`+d.ID+`/users/`+ids["user000"]+`"`)
	if sum := summaryRE.FindStringSubmatch(p.body); sum == nil || sum[1] != "1–50 of 120" || strings.Count(p.body, "/users/") != 50 {
		t.Fatalf("members page 1: %v, %d links", sum, strings.Count(p.body, "/users/"))
	}
	p = ev.get(gp + "?start=101")
	if sum := summaryRE.FindStringSubmatch(p.body); sum == nil || sum[1] != "101–120 of 120" || strings.Count(p.body, "/users/") != 20 {
		t.Fatalf("members last page: %v", sum)
	}
	ev.expect(ev.get(gbase+"/"+admins.ID), http.StatusOK, `href="/admin/directories/`+d.ID+`/users/`+alice.ID+`">`)

	// Unknown resources and directories are 404; a user id is not a group.
	ev.expect(ev.get("/admin/directories/"+d.ID+"/users/nope"), http.StatusNotFound, "does not exist")
	ev.expect(ev.get(gbase+"/"+alice.ID), http.StatusNotFound, "does not exist")
	ev.expect(ev.get("/admin/directories/nope/users/"+alice.ID), http.StatusNotFound, "directory does not exist")
	// The same ids are not reachable through another directory.
	ev.expect(ev.get("/admin/directories/default/users/"+alice.ID), http.StatusNotFound, "does not exist")
}

func TestBrowserNeedsSessionAndSaysWhenDataIsUpstream(t *testing.T) {
	ev := newUpstreamEnv(t)
	if p := ev.get("/admin/directories/default/users"); p.status != http.StatusSeeOther {
		t.Fatalf("without a session: %d", p.status)
	}
	ev.signIn()
	ev.expect(ev.get("/admin/directories/default/users"), http.StatusOK, `id="upstream"`, "lives upstream")
	ev.expect(ev.get("/admin/directories/default/groups/x"), http.StatusOK, `id="upstream"`)
}
