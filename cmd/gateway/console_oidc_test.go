package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/config"
)

// TestConsoleOIDCWiringStartsWithoutProvider: with console.oidc_* set and
// the provider down, the gateway starts, the sign-in page offers the OIDC
// button, and starting an OIDC sign-in fails with a page, not a crash.
// (The full flow against a real provider is in console/oidc_test.go.)
func TestConsoleOIDCWiringStartsWithoutProvider(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close() // nothing listens at the issuer
	cfg := config.Default()
	cfg.PublicURL = "http://127.0.0.1:8080"
	cfg.Console.OIDCIssuer = "http://" + down
	cfg.Console.OIDCClientID = "scimgate-console"
	cfg.Console.OIDCAdmins = "admin@example.com"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	base, logs := startGateway(t, cfg)
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/admin/login"); code != http.StatusOK || !strings.Contains(body, "Sign in with "+down) {
		t.Fatalf("login page: %d %.500s", code, body)
	}
	if code, body := get("/admin/oidc/login"); code != http.StatusBadGateway || !strings.Contains(body, "Sign-in failed") {
		t.Fatalf("OIDC sign-in with the provider down: %d %.500s", code, body)
	}
	if !strings.Contains(logs.String(), "OIDC discovery") {
		t.Fatalf("discovery failure not logged:\n%s", logs)
	}
}
