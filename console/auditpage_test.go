package console_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/audit"
)

// TestAuditPageNewestFirst: the newest events come first, "Older events"
// pages back in time with a cursor, "Newest" returns; the table is a
// .stack table whose cells carry their column name for narrow screens.
func TestAuditPageNewestFirst(t *testing.T) {
	ev := newEnv(t, "")
	ev.signIn()
	l := audit.NewLog(ev.r.Client, ev.r.Prefix, 0)
	for i := range 60 {
		if err := l.Append(t.Context(), audit.Event{Time: ev.clock(), Action: audit.UserProvisioned,
			Target: audit.Target{Type: "User", Name: fmt.Sprintf("user%02d", i)}, Outcome: audit.OutcomeSuccess}); err != nil {
			t.Fatal(err)
		}
	}
	targets := regexp.MustCompile(`User (user\d\d)`)
	names := func(body string) []string {
		var out []string
		for _, m := range targets.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	p := ev.get("/admin/audit?action=SCIM_USER_PROVISIONED")
	ev.expect(p, http.StatusOK, "Newest first", `class="list stack" id="events"`, `data-label="Action"`, `id="next-page"`)
	got := names(p.body)
	if len(got) != 50 || got[0] != "user59" || got[49] != "user10" || strings.Contains(p.body, `id="newest-page"`) {
		t.Fatalf("first page: %d events %v", len(got), got)
	}
	m := regexp.MustCompile(`href="([^"]+)" id="next-page"`).FindStringSubmatch(p.body)
	p = ev.get(html.UnescapeString(m[1]))
	ev.expect(p, http.StatusOK, `id="newest-page"`, `<option value="SCIM_USER_PROVISIONED" selected>`)
	if got := strings.Join(names(p.body), ","); got != "user09,user08,user07,user06,user05,user04,user03,user02,user01,user00" ||
		strings.Contains(p.body, `id="next-page"`) {
		t.Fatalf("older page: %s", got)
	}
}
