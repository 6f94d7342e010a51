package main

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
)

// TestDirectoryCLI: create, list, show, update and delete directories, and
// clients created into one.
func TestDirectoryCLI(t *testing.T) {
	m := miniredis.RunT(t)
	c := cli{t: t, url: "redis://" + m.Addr()}
	var d struct {
		ID       string
		Name     string
		MaxUsers int64 `json:"max_users"`
	}
	if err := json.Unmarshal([]byte(c.ok("directory", "create", "--name", "acme", "-o", "json")), &d); err != nil || d.ID == "" || d.Name != "acme" {
		t.Fatalf("create: %+v %v", d, err)
	}
	if _, _, err := c.run("directory", "create", "--name", "ACME"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate: %v", err)
	}
	c.usage("--name", "directory", "create", "--name", "bad name")
	c.ok("client", "create", "--name", "okta", "--directory", "acme")
	c.usage("--directory", "client", "create", "--name", "x", "--directory", "nope")
	c.ok("client", "create", "--name", "other")
	if out := c.ok("report", "credentials", "--directory", "acme"); !strings.Contains(out, "okta") || !strings.Contains(out, "acme") || strings.Contains(out, "other") {
		t.Fatalf("report --directory acme: %s", out)
	}
	c.usage("--directory", "report", "credentials", "--directory", "nope")
	out := c.ok("directory", "list")
	if !strings.Contains(out, "default") || !strings.Contains(out, "acme") || !strings.Contains(out, d.ID) {
		t.Fatalf("list: %s", out)
	}
	var all []struct {
		Name    string
		Clients int
	}
	if err := json.Unmarshal([]byte(c.ok("directory", "list", "-o", "json")), &all); err != nil || len(all) != 2 || all[1].Clients != 1 {
		t.Fatalf("list json: %+v %v", all, err)
	}
	c.ok("directory", "update", "acme", "--max-users", "10")
	if err := json.Unmarshal([]byte(c.ok("directory", "show", d.ID, "-o", "json")), &d); err != nil || d.MaxUsers != 10 {
		t.Fatalf("show after update: %+v %v", d, err)
	}
	// The directory's own rate limit (a bare number is per second).
	if out := c.ok("directory", "update", "acme", "--rate-limit", "100", "--burst", "200"); !strings.Contains(out, "100/s burst 200") {
		t.Fatalf("update --rate-limit: %s", out)
	}
	if out := c.ok("directory", "list"); !strings.Contains(out, "RATE LIMIT") || !strings.Contains(out, "100/s burst 200") || !strings.Contains(out, "default") {
		t.Fatalf("list with a rate limit: %s", out)
	}
	c.usage("--rate-limit", "directory", "update", "acme", "--rate-limit", "0")
	c.usage("--burst", "directory", "update", "acme", "--rate-limit", "default", "--burst", "5")
	if _, _, err := c.run("directory", "delete", "acme"); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("delete of a directory with a client: %v", err)
	}
	if _, _, err := c.run("directory", "delete", "default", "--force"); err == nil || !strings.Contains(err.Error(), "cannot be deleted") {
		t.Fatalf("delete default: %v", err)
	}
	if out := c.ok("directory", "delete", "acme", "--force"); !strings.Contains(out, "1 clients") {
		t.Fatalf("forced delete: %s", out)
	}
	if _, _, err := c.run("client", "show", "okta"); err == nil {
		t.Fatal("the deleted directory's client survived")
	}
	if out := c.ok("audit", "query", "--action", "DIRECTORY_DELETED"); !strings.Contains(out, "acme") {
		t.Fatalf("audit: %s", out)
	}
}

// TestDirectoryUpstreamCLI: a directory's upstream is set by create and
// update; show and list display the backend and URL, never the token;
// bad settings are usage errors naming the flag.
func TestDirectoryUpstreamCLI(t *testing.T) {
	m := miniredis.RunT(t)
	c := cli{t: t, url: "redis://" + m.Addr()}
	tokFile := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(tokFile, []byte("cli-upstream-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.usage("--upstream-url", "directory", "create", "--name", "op", "--upstream-url", "http://op.example.com/scim", "--upstream-token-file", tokFile)
	c.usage("--upstream-token-file", "directory", "create", "--name", "op", "--upstream-url", "https://op.example.com/scim")
	c.usage("--upstream-timeout", "directory", "create", "--name", "op", "--upstream-url", "https://op.example.com/scim", "--upstream-token-file", tokFile, "--upstream-timeout", "1h")
	out, stderr, err := c.run("directory", "create", "--name", "op", "--upstream-url", "https://op.example.com/scim_v2", "--upstream-token-file", tokFile, "--upstream-timeout", "3s")
	if err != nil || !strings.Contains(out, "upstream https://op.example.com/scim_v2") || !strings.Contains(stderr, "plain text") {
		t.Fatalf("create: %v\n%s\n%s", err, out, stderr)
	}
	c.ok("directory", "update", "op", "--upstream-url", "https://op2.example.com/scim_v2")
	show := c.ok("directory", "show", "op", "-o", "json")
	var d struct {
		Backend  string
		Upstream struct {
			URL      string
			Timeout  string
			TokenSet bool `json:"token_set"`
		}
	}
	if err := json.Unmarshal([]byte(show), &d); err != nil || d.Backend != "upstream" || d.Upstream.URL != "https://op2.example.com/scim_v2" ||
		d.Upstream.Timeout != "3s" || !d.Upstream.TokenSet {
		t.Fatalf("show: %+v %v\n%s", d, err, show)
	}
	if list := c.ok("directory", "list"); !strings.Contains(list, "upstream https://op2.example.com/scim_v2") || strings.Contains(list+show, "cli-upstream-secret") {
		t.Fatalf("list: %s", list)
	}
	// Client credentials and a CA bundle replace the token; the secret is
	// never shown.
	secretFile, caFile, badCA := filepath.Join(t.TempDir(), "secret"), filepath.Join(t.TempDir(), "ca.pem"), filepath.Join(t.TempDir(), "bad.pem")
	for f, v := range map[string][]byte{secretFile: []byte("cli-client-secret\n"), caFile: testCAPEM(t), badCA: []byte("nope")} {
		if err := os.WriteFile(f, v, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c.usage("--upstream-client-secret-file", "directory", "update", "op", "--upstream-token-url", "https://op.example.com/token", "--upstream-client-id", "gw")
	c.usage("--upstream-ca-file", "directory", "update", "op", "--upstream-ca-file", badCA)
	c.ok("directory", "update", "op", "--upstream-token-url", "https://op.example.com/token", "--upstream-client-id", "gw",
		"--upstream-client-secret-file", secretFile, "--upstream-scopes", "scim.read scim.write", "--upstream-ca-file", caFile)
	show = c.ok("directory", "show", "op", "-o", "json")
	var cc struct {
		Upstream struct {
			Auth      string
			ClientID  string   `json:"client_id"`
			Scopes    []string `json:"scopes"`
			SecretSet bool     `json:"client_secret_set"`
			TokenSet  bool     `json:"token_set"`
			CACerts   int      `json:"ca_certificates"`
		}
	}
	if err := json.Unmarshal([]byte(show), &cc); err != nil || cc.Upstream.Auth != "client_credentials" || cc.Upstream.ClientID != "gw" ||
		len(cc.Upstream.Scopes) != 2 || !cc.Upstream.SecretSet || cc.Upstream.TokenSet || cc.Upstream.CACerts != 1 || strings.Contains(show, "cli-client-secret") {
		t.Fatalf("client credentials: %+v %v\n%s", cc, err, show)
	}
	if out := c.ok("directory", "update", "op", "--backend", "stored"); strings.Contains(out, "op2.example.com") {
		t.Fatalf("back to stored: %s", out)
	}
}

// testCAPEM is a PEM certificate (a throwaway test server's).
func testCAPEM(t *testing.T) []byte {
	t.Helper()
	hs := httptest.NewTLSServer(http.NotFoundHandler())
	hs.Close()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw})
}
