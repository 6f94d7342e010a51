package upstream

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestClientCredentialsRenewedOn401: the client-credentials token is
// fetched once and reused; when the upstream revokes it (401), the client
// fetches a new one and resends the request once with its body; a second
// revocation within the interval is not renewed again (the 401 passes).
func TestClientCredentialsRenewedOn401(t *testing.T) {
	var issued, accepted atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			if id, secret, ok := r.BasicAuth(); !ok || id != "gw" || secret != "s3cret" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			n := issued.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, n)
			return
		}
		body := make([]byte, 64)
		n, _ := r.Body.Read(body)
		if r.Header.Get("Authorization") != fmt.Sprintf("Bearer tok-%d", accepted.Load()) || string(body[:n]) != `{"userName":"a"}` {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	accepted.Store(1)
	c, err := NewClient(Config{URL: srv.URL, TokenURL: srv.URL + "/token", ClientID: "gw", ClientSecret: "s3cret",
		Timeout: 2 * time.Second, TokenReload: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	post := func() int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/Users", strings.NewReader(`{"userName":"a"}`))
		resp, err := c.do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 3 {
		if code := post(); code != 201 {
			t.Fatalf("first token: %d", code)
		}
	}
	if n := issued.Load(); n != 1 {
		t.Fatalf("%d tokens fetched for 3 requests; want 1 (cached)", n)
	}
	accepted.Store(2) // tok-1 revoked upstream
	if code := post(); code != 201 || issued.Load() != 2 {
		t.Fatalf("after revocation: %d, %d tokens fetched", code, issued.Load())
	}
	accepted.Store(3)
	if code := post(); code != 401 || issued.Load() != 2 {
		t.Fatalf("second renewal within the interval: %d, %d tokens fetched", code, issued.Load())
	}
}
