package console_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/adminapi"
)

func TestCredentialReportPageAndCSV(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	id, tok := ev.createStaticClient(csrf, "okta")
	ts, _ := ev.svc.ListTokens(t.Context(), id)
	ev.post("/admin/clients/"+id+"/tokens/"+ts[0].ID+"/revoke", url.Values{"csrf": {csrf}}, nil)
	ev.post("/admin/clients/"+id+"/tokens", url.Values{"csrf": {csrf}, "name": {"short"}, "scopes": {"scim_v2"}, "expires": {"7d"}}, nil)
	createClientCredentials(t, ev, csrf, "pingfed")

	p := ev.get("/admin/reports/credentials")
	ev.expect(p, http.StatusOK, "okta", "pingfed", "client secret", `<span class="flag">revoked</span>`,
		`<span class="flag">expiring_30d</span>`, `id="report-csv"`)
	if strings.Contains(p.body, tok) {
		t.Fatal("report shows a token")
	}

	ev.advance(8 * 24 * time.Hour) // the 7-day token expires; the session (1h) too
	ev.signIn()
	c := ev.get("/admin/reports/credentials.csv")
	if c.status != http.StatusOK || !strings.HasPrefix(c.header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(c.header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("csv: %d %v", c.status, c.header)
	}
	rows, err := csv.NewReader(strings.NewReader(c.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(adminapi.CSVHeader, ",") || len(rows) != 4 {
		t.Fatalf("csv rows: %v", rows)
	}
	statuses := map[string]string{}
	for _, r := range rows[1:] {
		statuses[r[4]] = r[12]
	}
	if statuses["initial"] != "revoked" || statuses["short"] != "expired" {
		t.Fatalf("statuses by name: %v", statuses)
	}
	if strings.Contains(c.body, tok) {
		t.Fatal("csv holds a token")
	}
}
