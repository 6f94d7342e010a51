package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/scimgate/scimgate/auth"
)

// TestClientCredentialsCLI: create prints client_id and client_secret once;
// rotate-secret prints a new one; keys rotate adds a current key and keeps
// the previous one listed as retired.
func TestClientCredentialsCLI(t *testing.T) {
	m := miniredis.RunT(t)
	c := cli{t: t, url: "redis://" + m.Addr()}
	var created struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		Method       string   `json:"method"`
		Scopes       []string `json:"allowed_scopes"`
	}
	out := c.ok("client", "create", "--name", "okta", "--auth", "client_credentials", "-o", "json")
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if created.ClientID == "" || auth.CheckSecret(auth.ClientSecretPrefix, created.ClientSecret) != nil ||
		created.Method != "client_credentials" || len(created.Scopes) != 1 || created.Scopes[0] != "scim_v2" {
		t.Fatalf("create: %s", out)
	}
	if show := c.ok("client", "show", "okta", "-o", "json"); strings.Contains(show, created.ClientSecret) || strings.Contains(show, "secret_hash") {
		t.Fatalf("show reveals the secret: %s", show)
	}
	var rotated struct {
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(c.ok("client", "rotate-secret", "okta", "-o", "json")), &rotated); err != nil {
		t.Fatal(err)
	}
	if rotated.ClientSecret == "" || rotated.ClientSecret == created.ClientSecret {
		t.Fatal("rotate-secret gave no new secret")
	}
	c.ok("client", "create", "--name", "st")
	if _, _, err := c.run("client", "rotate-secret", "st"); err == nil {
		t.Fatal("rotate-secret on a static_token client succeeded")
	}

	c.ok("keys", "rotate")
	c.ok("keys", "rotate")
	var keys []struct {
		Kid   string `json:"kid"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(c.ok("keys", "list", "-o", "json")), &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].State != "current" || keys[1].State != "retired" {
		t.Fatalf("keys: %+v", keys)
	}
}
