package adminapi_test

import (
	"context"
	"encoding/csv"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/redistest"
)

func TestCredentialReportFlags(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ev := newAuditEnv(t, r)
		ctx := context.Background()
		t0 := ev.now
		if _, err := ev.svc.CreateClient(ctx, adminapi.ClientSpec{Name: "okta"}); err != nil {
			t.Fatal(err)
		}
		mk := func(name, expires string) (string, string) {
			plain, tok, err := ev.svc.CreateToken(ctx, "okta", adminapi.TokenSpec{Name: name, Expires: expires})
			if err != nil {
				t.Fatal(err)
			}
			return plain, tok.ID
		}
		mk("soon", "1m")                  // expires t0+1 month
		_, revoked := mk("revoked", "1y") // revoked at t0
		mk("short", "1d")                 // expired by the report
		mk("idle", "1y")                  // never used, created > 90 days before the report
		usedPlain, _ := mk("used", "1y")  // used on the report's day
		if _, err := ev.svc.RevokeToken(ctx, "", revoked); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ev.svc.CreateClientWithSecret(ctx, adminapi.ClientSpec{Name: "m2m", Method: "client_credentials"}); err != nil {
			t.Fatal(err)
		}
		if _, err := ev.svc.CreateClient(ctx, adminapi.ClientSpec{Name: "idp", Method: "idp_jwt",
			IdPJWTSpec: adminapi.IdPJWTSpec{Issuer: "https://idp.example.com", Subject: "scim-app", Audience: "scimgate"}}); err != nil {
			t.Fatal(err)
		}
		off := false
		if _, err := ev.svc.UpdateClient(ctx, "idp", adminapi.ClientPatch{Enabled: &off}); err != nil {
			t.Fatal(err)
		}

		ev.now = t0.AddDate(0, 0, 95) // the "soon" token (1 month) has expired too by now
		if _, _, err := ev.store.LookupToken(ctx, ev.hasher.Hash(usedPlain), netip.MustParseAddr("192.0.2.1"), ev.now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		rep, err := ev.svc.CredentialReport(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, c := range rep.Credentials {
			key := c.Kind + "/" + c.Name
			if c.Kind != adminapi.KindStaticToken {
				key = c.Kind + "/" + c.ClientName
			}
			got[key] = c.Status + " " + strings.Join(c.Flags, ",")
		}
		want := map[string]string{
			"static_token/soon":    "expired expired",
			"static_token/revoked": "revoked revoked",
			"static_token/short":   "expired expired",
			"static_token/idle":    "active never_used,unused_90d",
			"static_token/used":    "active ",
			"client_secret/m2m":    "active ",
			"idp_subject/idp":      "client_disabled client_disabled",
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %q, want %q", k, got[k], w)
			}
		}
		if len(rep.Credentials) != len(want) || len(rep.Clients) != 3 {
			t.Errorf("%d credentials, %d clients", len(rep.Credentials), len(rep.Clients))
		}

		// Expiring within 30 days, seen 20 days before the "idle" token's end.
		ev.now = t0.AddDate(1, 0, -20)
		rep, _ = ev.svc.CredentialReport(ctx)
		for _, c := range rep.Credentials {
			if c.Name == "idle" && !slices.Contains(c.Flags, adminapi.FlagExpiring30d) {
				t.Errorf("idle token 20 days before expiry: flags %v", c.Flags)
			}
			if c.Kind == adminapi.KindClientSecret && (c.UsageTracked || len(c.Flags) != 0 || c.Scopes[0] != "scim_v2") {
				t.Errorf("client secret: %+v", c)
			}
		}

		w := ev.call("GET", adminapi.Prefix+"/reports/credentials?format=csv", "")
		rows, err := csv.NewReader(w.Body).ReadAll()
		if w.Code != 200 || err != nil || len(rows) != 1+len(want) || strings.Join(rows[0], ",") != strings.Join(adminapi.CSVHeader, ",") {
			t.Fatalf("csv: %d %v %v", w.Code, err, rows)
		}
		if w := ev.call("GET", adminapi.Prefix+"/reports/credentials", ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"never_used"`) {
			t.Errorf("json report: %d %s", w.Code, w.Body)
		}
	})
}
