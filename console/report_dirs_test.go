package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/adminapi"
)

// TestCredentialReportByDirectory: the report page shows each
// credential's directory and filters by directory (the CSV link keeps the
// filter); an unknown directory is a 400 on the filter field.
func TestCredentialReportByDirectory(t *testing.T) {
	ev := newEnv(t, "")
	csrf := ev.signIn()
	d, err := ev.svc.CreateDirectory(t.Context(), adminapiSpec("acme"))
	if err != nil {
		t.Fatal(err)
	}
	ev.createStaticClient(csrf, "okta")
	if _, err := ev.svc.CreateClient(t.Context(), adminapi.ClientSpec{Name: "acme-idp", Directory: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ev.svc.CreateToken(t.Context(), "acme-idp", adminapi.TokenSpec{Name: "t"}); err != nil {
		t.Fatal(err)
	}
	ev.expect(ev.get("/admin/reports/credentials"), http.StatusOK, "okta", "acme-idp", "<td>acme</td>", "<td>default</td>", `id="report-filter"`)
	p := ev.get("/admin/reports/credentials?directory=" + d.ID)
	ev.expect(p, http.StatusOK, "acme-idp", "<td>acme</td>", `reports/credentials.csv?directory=`+d.ID)
	if strings.Contains(p.body, ">okta<") {
		t.Fatal("the acme report lists a client of the default directory")
	}
	c := ev.get("/admin/reports/credentials.csv?directory=acme")
	if c.status != http.StatusOK || strings.Contains(c.body, "okta") || !strings.Contains(c.body, "acme-idp") {
		t.Fatalf("csv for acme: %d %s", c.status, c.body)
	}
	ev.expect(ev.get("/admin/reports/credentials?directory=nope"), http.StatusBadRequest, `id="err-directory"`)
}
