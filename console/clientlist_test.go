package console_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/adminapi"
)

var nextRE = regexp.MustCompile(`id="next-page" rel="next" href="([^"]+)"|href="([^"]+)" id="next-page"`)

// clientNames returns the client names in the list's table, in order.
func clientNames(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<td><a href="/admin/clients/[^"]+">([^<]+)</a></td>`).FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func TestClientListSearchAndPaging(t *testing.T) {
	ev := newEnv(t, "")
	ev.signIn()
	for i := range 53 {
		if _, err := ev.svc.CreateClient(t.Context(), adminapi.ClientSpec{Name: fmt.Sprintf("okta-%02d", i), Method: "static_token"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ev.svc.CreateClient(t.Context(), adminapi.ClientSpec{Name: "Entra", Method: "static_token"}); err != nil {
		t.Fatal(err)
	}
	p := ev.get("/admin/clients")
	ev.expect(p, http.StatusOK, `id="client-search"`, `id="next-page"`)
	names := clientNames(p.body)
	if len(names) != 50 || names[0] != "Entra" || names[49] != "okta-48" || strings.Contains(p.body, `id="first-page"`) {
		t.Fatalf("first page: %d names %v", len(names), names)
	}
	m := nextRE.FindStringSubmatch(p.body)
	next := html.UnescapeString(m[1] + m[2])
	p = ev.get(next)
	ev.expect(p, http.StatusOK, `id="first-page"`)
	if got := strings.Join(clientNames(p.body), ","); got != "okta-49,okta-50,okta-51,okta-52" || strings.Contains(p.body, `id="next-page"`) {
		t.Fatalf("second page: %s", got)
	}

	// Search is a case-insensitive name prefix; the paging links keep it.
	p = ev.get("/admin/clients?q=OKTA-5")
	ev.expect(p, http.StatusOK, `value="OKTA-5"`)
	if got := strings.Join(clientNames(p.body), ","); got != "okta-50,okta-51,okta-52" {
		t.Fatalf("search OKTA-5: %s", got)
	}
	ev.expect(ev.get("/admin/clients?q=%3Cscript%3E"), http.StatusOK, `id="no-results"`, "&lt;script&gt;")
	ev.expect(ev.get("/admin/clients?cursor=%25%25"), http.StatusBadRequest, "page link was malformed", "Entra")
	ev.expect(ev.get("/admin/clients?q="+strings.Repeat("x", 201)), http.StatusBadRequest, `id="err-q"`)
}
