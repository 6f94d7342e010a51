package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/config"
)

// TestConsoleNotFoundPage: an unknown path under /admin gets the console's
// HTML 404 page (with its security headers); unknown admin API and other
// paths keep their JSON 404.
func TestConsoleNotFoundPage(t *testing.T) {
	base, _ := startGateway(t, config.Default())
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, p := range []string{"/admin/nope", "/admin/clients/x/y/z", "/admin/apix"} {
		resp, body := get(p)
		if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "Page not found") || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d %s %q", p, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	for _, p := range []string{"/admin/api/v1/nope", "/admin/api", "/nope"} {
		resp, body := get(p)
		if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(body, "no such endpoint") {
			t.Errorf("%s: %d %s %q", p, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}
