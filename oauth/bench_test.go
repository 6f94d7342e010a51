package oauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/redistest"
)

// BenchmarkClientCredentialsVsStatic: GET /scim/v2/Users through the real
// middleware and SCIM handler with a client-credentials JWT and with a
// static opst- token, on real Redis when SCIMGATE_TEST_REDIS_URL is set
// (miniredis otherwise). Compare the two ns/op for the ratio.
func BenchmarkClientCredentialsVsStatic(b *testing.B) {
	r := redistest.Mini(b)
	if os.Getenv(redistest.EnvURL) != "" {
		r = redistest.Real(b)
	}
	f := newFixture(b, r, fixtureOpts{})
	ctx := context.Background()
	id, secret := f.newClient("bench-cc")
	jwtTok := f.token(id, secret)
	sc, err := f.svc.CreateClient(ctx, adminapi.ClientSpec{Name: "bench-static"})
	if err != nil {
		b.Fatal(err)
	}
	staticTok, _, err := f.svc.CreateToken(ctx, sc.ID, adminapi.TokenSpec{})
	if err != nil {
		b.Fatal(err)
	}
	handler := f.srv.Config.Handler
	run := func(b *testing.B, tok string) {
		req := httptest.NewRequest(http.MethodGet, "/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	}
	b.Run("client_credentials", func(b *testing.B) { run(b, jwtTok) })
	b.Run("static", func(b *testing.B) { run(b, staticTok) })
}
