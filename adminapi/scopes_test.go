package adminapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/redistest"
)

// TestOfferedScopes: with scopes.offered = scim_v2,scim_v2:read, a scope
// the gateway knows but does not offer is refused with 400 naming it, on
// token and client creation and on the allowed scopes of an update, which
// is audited like every client change.
func TestOfferedScopes(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ev := newAuditEnv(t, r)
		ev.svc.SetOfferedScopes([]string{"scim_v2", "scim_v2:read"})
		base := adminapi.Prefix + "/clients"
		expect(t, "static client", ev.call("POST", base, `{"name":"okta"}`), 201, "")
		expect(t, "token with an offered scope", ev.call("POST", base+"/okta/tokens", `{"scopes":["scim_v2:read"]}`), 201, "opst-")
		w := ev.call("POST", base+"/okta/tokens", `{"scopes":["scim_v2","api_v3"]}`)
		expect(t, "token with api_v3", w, 400, `"api_v3\" is not an offered scope (scopes.offered: scim_v2, scim_v2:read)`)
		expect(t, "field", w, 400, `"field":"scopes"`)
		expect(t, "unknown scope", ev.call("POST", base+"/okta/tokens", `{"scopes":["root"]}`), 400, `"root\" is not`)
		expect(t, "m2m with bcf", ev.call("POST", base, `{"name":"m2m","method":"client_credentials","scopes":["bcf_v2_1"]}`), 400, `"bcf_v2_1\" is not an offered scope`)
		expect(t, "m2m", ev.call("POST", base, `{"name":"m2m","method":"client_credentials","scopes":["scim_v2"]}`), 201, "client_secret")

		expect(t, "allowed_scopes of a static client", ev.call("PATCH", base+"/okta", `{"allowed_scopes":["scim_v2"]}`), 400, `"field":"allowed_scopes"`)
		expect(t, "allowed_scopes not offered", ev.call("PATCH", base+"/m2m", `{"allowed_scopes":["scim_v2","api_v3"]}`), 400, `"api_v3\" is not an offered scope`)
		before := len(ev.all())
		var c adminapi.ClientJSON
		w = ev.call("PATCH", base+"/m2m", `{"allowed_scopes":["scim_v2:read"]}`)
		expect(t, "allowed_scopes", w, 200, "")
		cl, err := ev.svc.Client(t.Context(), "m2m")
		if err != nil || !slices.Equal(cl.AllowedScopes, []string{"scim_v2:read"}) {
			t.Fatalf("allowed scopes = %v, %v (%+v)", cl.AllowedScopes, err, c)
		}
		events := ev.all()
		if len(events) != before+1 || events[len(events)-1].Action != audit.ClientUpdated ||
			strings.Join(events[len(events)-1].Changed, ",") != "allowed_scopes" {
			t.Fatalf("update events = %+v", events[before:])
		}
		// A scope the client has stays allowed after scopes.offered drops it.
		ev.svc.SetOfferedScopes([]string{"scim_v2"})
		expect(t, "keep a held scope", ev.call("PATCH", base+"/m2m", `{"allowed_scopes":["scim_v2:read","scim_v2"]}`), 200, "")
		expect(t, "back to the default", ev.call("PATCH", base+"/m2m", `{"allowed_scopes":[]}`), 200, "")
		if cl, _ := ev.svc.Client(t.Context(), "m2m"); !slices.Equal(cl.AllowedScopes, []string{"scim_v2"}) {
			t.Fatalf("allowed scopes after [] = %v", cl.AllowedScopes)
		}
		// The default scope (scim_v2, for no scopes given) must be on offer
		// too: an empty list is not a way around scopes.offered.
		ev.svc.SetOfferedScopes([]string{"scim_v2:read"})
		expect(t, "m2m default not offered", ev.call("POST", base, `{"name":"m2m2","method":"client_credentials"}`), 400, `"scim_v2\" is not an offered scope`)
		expect(t, "read-only m2m", ev.call("POST", base, `{"name":"m2m3","method":"client_credentials","scopes":["scim_v2:read"]}`), 201, "client_secret")
		expect(t, "[] to a default not offered", ev.call("PATCH", base+"/m2m3", `{"allowed_scopes":[]}`), 400, `"scim_v2\" is not an offered scope`)
	})
}
