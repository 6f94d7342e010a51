package adminapi_test

import (
	"net/http"
	"testing"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/redistest"
)

func TestCreateIdPJWTClientAPI(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ev := newEnv(t, r, mustCred(t, adminToken, ""))
		const iss = "https://kc.example.com/realms/acme"
		var got adminapi.ClientJSON
		w := ev.admin("POST", "/clients", `{"name":"kc-a","method":"idp_jwt","issuer":"`+iss+`","subject":"sa-1","audience":"scimgate"}`, &got)
		expect(t, "create idp_jwt", w, http.StatusCreated, `"issuer":"`+iss+`"`)
		if got.Subject != "sa-1" || got.Audience != "scimgate" || got.JWKSURL != "" || got.Method != "idp_jwt" {
			t.Fatalf("created %+v", got)
		}
		// Same issuer, other subject, explicit JWKS URL on loopback http.
		w = ev.admin("POST", "/clients", `{"name":"kc-b","method":"idp_jwt","issuer":"`+iss+`","subject":"sa-2","audience":"scimgate","jwks_url":"http://127.0.0.1:9/jwks"}`, nil)
		expect(t, "second subject", w, http.StatusCreated, `"jwks_url":"http://127.0.0.1:9/jwks"`)
		w = ev.admin("POST", "/clients", `{"name":"kc-c","method":"idp_jwt","issuer":"`+iss+`","subject":"sa-1","audience":"x"}`, nil)
		expect(t, "taken subject", w, http.StatusConflict, `"field":"subject"`)

		for _, tc := range []struct{ body, field string }{
			{`{"name":"x1","method":"idp_jwt","subject":"s","audience":"a"}`, "issuer"},
			{`{"name":"x2","method":"idp_jwt","issuer":"http://kc.example.com","subject":"s","audience":"a"}`, "issuer"},
			{`{"name":"x3","method":"idp_jwt","issuer":"ftp://kc.example.com","subject":"s","audience":"a"}`, "issuer"},
			{`{"name":"x4","method":"idp_jwt","issuer":"kc.example.com","subject":"s","audience":"a"}`, "issuer"},
			{`{"name":"x5","method":"idp_jwt","issuer":"https://kc.example.com","audience":"a"}`, "subject"},
			{`{"name":"x6","method":"idp_jwt","issuer":"https://kc.example.com","subject":"s"}`, "audience"},
			{`{"name":"x7","method":"idp_jwt","issuer":"https://kc.example.com","subject":"s\n","audience":"a"}`, "subject"},
			{`{"name":"x8","method":"idp_jwt","issuer":"https://kc.example.com","subject":"s","audience":"a","jwks_url":"http://10.0.0.1/jwks"}`, "jwks_url"},
			{`{"name":"x9","method":"static_token","issuer":"https://kc.example.com"}`, "issuer"},
		} {
			w := ev.admin("POST", "/clients", tc.body, nil)
			expect(t, tc.body, w, http.StatusBadRequest, `"field":"`+tc.field+`"`)
		}
		for _, ok := range []string{"http://localhost:8080/realms/x", "http://[::1]:8080", "https://login.example.org/oauth2/default"} {
			w := ev.admin("POST", "/clients", `{"name":"ok-`+string(rune('a'+len(ok)%26))+`","method":"idp_jwt","issuer":"`+ok+`","subject":"s","audience":"a"}`, nil)
			expect(t, ok, w, http.StatusCreated, ok)
		}
	})
}
