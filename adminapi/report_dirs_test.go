package adminapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/redistest"
)

// TestCredentialReportByDirectory: every client and credential carries
// its directory (id and name, in JSON and CSV); ?directory= (id or name)
// limits the report to that directory; an unknown one is a 400 naming the
// field.
func TestCredentialReportByDirectory(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ev := newAuditEnv(t, r)
		ctx := context.Background()
		reg, err := directory.NewRegistry(r.Client, r.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		ev.svc.SetDirectories(reg, r.Client, r.Prefix, nil)
		acme, err := ev.svc.CreateDirectory(ctx, adminapi.DirectorySpec{Name: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ name, dir string }{{"okta", ""}, {"acme-idp", "acme"}} {
			if _, err := ev.svc.CreateClient(ctx, adminapi.ClientSpec{Name: c.name, Directory: c.dir}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := ev.svc.CreateToken(ctx, c.name, adminapi.TokenSpec{Name: "t"}); err != nil {
				t.Fatal(err)
			}
		}

		all, err := ev.svc.CredentialReport(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dirOf := map[string]string{}
		for _, c := range all.Credentials {
			dirOf[c.ClientName] = c.DirectoryID + "/" + c.DirectoryName
		}
		if dirOf["okta"] != "default/default" || dirOf["acme-idp"] != acme.ID+"/acme" || all.Directory != "" {
			t.Fatalf("directories in the full report: %v (filter %q)", dirOf, all.Directory)
		}

		for _, ref := range []string{"acme", acme.ID} {
			w := ev.call(http.MethodGet, adminapi.Prefix+"/reports/credentials?directory="+ref, "")
			var rep adminapi.CredentialReport
			if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil || w.Code != http.StatusOK {
				t.Fatalf("report for %s: %d %s", ref, w.Code, w.Body.String())
			}
			if rep.Directory != acme.ID || len(rep.Clients) != 1 || rep.Clients[0].Name != "acme-idp" || rep.Clients[0].DirectoryName != "acme" ||
				len(rep.Credentials) != 1 || rep.Credentials[0].ClientName != "acme-idp" {
				t.Fatalf("report for %s: %+v", ref, rep)
			}
		}
		w := ev.call(http.MethodGet, adminapi.Prefix+"/reports/credentials?directory=default&format=csv", "")
		rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("csv for default: %v %q", err, w.Body.String())
		}
		if h := rows[0]; h[len(h)-2] != "directory_id" || h[len(h)-1] != "directory_name" || rows[1][1] != "okta" || rows[1][len(h)-2] != "default" {
			t.Errorf("csv: %q", rows)
		}
		if w := ev.call(http.MethodGet, adminapi.Prefix+"/reports/credentials?directory=nope", ""); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"field":"directory"`) {
			t.Errorf("unknown directory: %d %s", w.Code, w.Body.String())
		}
	})
}
