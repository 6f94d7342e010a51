package main

import (
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
)

func TestClientCreateIdPJWT(t *testing.T) {
	m := miniredis.RunT(t)
	c := cli{t: t, url: "redis://" + m.Addr()}
	const iss = "https://kc.example.com/realms/acme"
	out := c.ok("client", "create", "--name", "kc", "--auth", "idp_jwt", "--issuer", iss,
		"--subject", "sa-uuid", "--audience", "scimgate", "--jwks-url", "https://kc.example.com/certs")
	for _, want := range []string{"idp_jwt", iss, "sa-uuid", "scimgate", "https://kc.example.com/certs"} {
		if !strings.Contains(out, want) {
			t.Fatalf("create output lacks %q:\n%s", want, out)
		}
	}
	out = c.ok("client", "show", "kc", "-o", "json")
	if !strings.Contains(out, `"subject": "sa-uuid"`) {
		t.Fatalf("show -o json: %s", out)
	}
	c.usage("--subject", "client", "create", "--name", "kc2", "--auth", "idp_jwt", "--issuer", iss,
		"--audience", "scimgate")
	c.usage("--issuer", "client", "create", "--name", "kc2", "--auth", "idp_jwt", "--issuer", "http://kc.example.com",
		"--subject", "s", "--audience", "a")
	c.usage("--jwks-url", "client", "create", "--name", "kc2", "--auth", "idp_jwt", "--issuer", iss,
		"--subject", "s", "--audience", "a", "--jwks-url", "file:///etc/passwd")
	if _, _, err := c.run("client", "create", "--name", "kc2", "--auth", "idp_jwt", "--issuer", iss,
		"--subject", "sa-uuid", "--audience", "a"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("taken (issuer, subject): %v", err)
	}
}

// TestClientUpdateIdPJWT: client update --issuer --subject --audience
// --jwks-url goes through the same checks as create.
func TestClientUpdateIdPJWT(t *testing.T) {
	m := miniredis.RunT(t)
	c := cli{t: t, url: "redis://" + m.Addr()}
	const iss = "https://kc.example.com/realms/acme"
	c.ok("client", "create", "--name", "kc", "--auth", "idp_jwt", "--issuer", iss, "--subject", "sa-1", "--audience", "scimgate")
	c.ok("client", "create", "--name", "kc2", "--auth", "idp_jwt", "--issuer", iss, "--subject", "sa-2", "--audience", "scimgate")
	c.ok("client", "create", "--name", "plain")
	out := c.ok("client", "update", "kc", "--subject", "sa-9", "--audience", "scimgate-2",
		"--issuer", "https://login.example.org/oauth2/default", "--jwks-url", "https://login.example.org/keys")
	for _, want := range []string{"sa-9", "scimgate-2", "https://login.example.org/oauth2/default", "https://login.example.org/keys"} {
		if !strings.Contains(out, want) {
			t.Fatalf("update output lacks %q:\n%s", want, out)
		}
	}
	if out := c.ok("client", "update", "kc", "--jwks-url", "", "-o", "json"); strings.Contains(out, "jwks_url") {
		t.Fatalf("--jwks-url \"\" did not clear it: %s", out)
	}
	c.usage("--issuer", "client", "update", "kc", "--issuer", "http://kc.example.com")
	c.usage("--subject", "client", "update", "kc", "--subject", "")
	c.usage("--audience", "client", "update", "kc", "--audience", "")
	c.usage("--jwks-url", "client", "update", "kc", "--jwks-url", "file:///etc/passwd")
	c.usage("--issuer", "client", "update", "plain", "--issuer", iss)
	if _, _, err := c.run("client", "update", "kc", "--issuer", iss, "--subject", "sa-2"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("taken (issuer, subject): %v", err)
	}
}
