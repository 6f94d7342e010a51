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

// TestUpdateIdPJWTClientAPI: PATCH changes issuer, subject, audience and
// jwks_url with the checks of create; a taken (issuer, subject) is 409
// naming subject; the settings apply only to idp_jwt clients.
func TestUpdateIdPJWTClientAPI(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ev := newEnv(t, r, mustCred(t, adminToken, ""))
		const iss = "https://kc.example.com/realms/acme"
		w := ev.admin("POST", "/clients", `{"name":"kc-a","method":"idp_jwt","issuer":"`+iss+`","subject":"sa-1","audience":"scimgate"}`, nil)
		expect(t, "create a", w, http.StatusCreated, `"subject":"sa-1"`)
		w = ev.admin("POST", "/clients", `{"name":"kc-b","method":"idp_jwt","issuer":"`+iss+`","subject":"sa-2","audience":"scimgate"}`, nil)
		expect(t, "create b", w, http.StatusCreated, `"subject":"sa-2"`)
		w = ev.admin("POST", "/clients", `{"name":"static"}`, nil)
		expect(t, "create static", w, http.StatusCreated, `"static_token"`)

		var got adminapi.ClientJSON
		w = ev.admin("PATCH", "/clients/kc-a", `{"subject":"sa-9","audience":"scimgate-2","jwks_url":"https://kc.example.com/certs"}`, &got)
		expect(t, "patch subject, audience, jwks_url", w, http.StatusOK, `"subject":"sa-9"`)
		if got.Issuer != iss || got.Subject != "sa-9" || got.Audience != "scimgate-2" || got.JWKSURL != "https://kc.example.com/certs" {
			t.Fatalf("patched %+v", got)
		}
		got = adminapi.ClientJSON{}
		w = ev.admin("PATCH", "/clients/kc-a", `{"jwks_url":""}`, &got)
		expect(t, "clear jwks_url", w, http.StatusOK, `"subject":"sa-9"`)
		if got.JWKSURL != "" {
			t.Fatalf("jwks_url not cleared: %+v", got)
		}
		w = ev.admin("PATCH", "/clients/kc-a", `{"issuer":"https://login.example.org/oauth2/default"}`, &got)
		expect(t, "patch issuer", w, http.StatusOK, `"issuer":"https://login.example.org/oauth2/default"`)
		// Back to the first issuer: sa-2 is kc-b's there.
		w = ev.admin("PATCH", "/clients/kc-a", `{"issuer":"`+iss+`","subject":"sa-2"}`, nil)
		expect(t, "taken issuer and subject", w, http.StatusConflict, `"field":"subject"`)
		w = ev.admin("GET", "/clients/kc-a", "", &got)
		expect(t, "unchanged after the conflict", w, http.StatusOK, `"subject":"sa-9"`)
		if got.Issuer != "https://login.example.org/oauth2/default" {
			t.Fatalf("a refused patch changed the client: %+v", got)
		}
		// The old subject is free again: kc-b may take sa-1.
		w = ev.admin("PATCH", "/clients/kc-b", `{"subject":"sa-1"}`, nil)
		expect(t, "freed subject", w, http.StatusOK, `"subject":"sa-1"`)

		for _, tc := range []struct{ ref, body, field string }{
			{"kc-a", `{"issuer":"http://kc.example.com"}`, "issuer"},
			{"kc-a", `{"issuer":""}`, "issuer"},
			{"kc-a", `{"issuer":"kc.example.com"}`, "issuer"},
			{"kc-a", `{"subject":""}`, "subject"},
			{"kc-a", `{"subject":"s\n"}`, "subject"},
			{"kc-a", `{"audience":""}`, "audience"},
			{"kc-a", `{"jwks_url":"http://10.0.0.1/jwks"}`, "jwks_url"},
			{"static", `{"issuer":"https://kc.example.com"}`, "issuer"},
			{"static", `{"subject":"x"}`, "subject"},
		} {
			w := ev.admin("PATCH", "/clients/"+tc.ref, tc.body, nil)
			expect(t, tc.ref+" "+tc.body, w, http.StatusBadRequest, `"field":"`+tc.field+`"`)
		}
		w = ev.admin("PATCH", "/clients/kc-a", `{"issuer":"http://localhost:8080/realms/x"}`, nil)
		expect(t, "loopback http issuer", w, http.StatusOK, `"issuer":"http://localhost:8080/realms/x"`)
	})
}
