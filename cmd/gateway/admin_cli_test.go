package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/tokenstore"
)

// cli runs the binary's command line against the Redis at url.
type cli struct {
	t   *testing.T
	url string
}

// cliPepper is the tokens.pepper of the CLI in tests; a gateway that must
// accept the tokens the CLI creates uses it too.
const cliPepper = "cli-pepper-0123456789abcdef0123456789"

func (c cli) env(k string) (string, bool) {
	switch k {
	case "SCIMGATE_REDIS_URL":
		return c.url, c.url != ""
	case "SCIMGATE_TOKENS_PEPPER":
		return cliPepper, true
	}
	return "", false
}

func (c cli) run(args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut, c.env)
	return out.String(), errOut.String(), err
}

func (c cli) ok(args ...string) string {
	c.t.Helper()
	out, stderr, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("gateway %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// usage expects exit status 2 with a message containing want.
func (c cli) usage(want string, args ...string) {
	c.t.Helper()
	_, _, err := c.run(args...)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), want) {
		c.t.Fatalf("gateway %s: got %v, want a usage error naming %q", strings.Join(args, " "), err, want)
	}
}

func TestAdminCLI(t *testing.T) {
	m := miniredis.RunT(t)
	c := cli{t: t, url: "redis://" + m.Addr()}

	out := c.ok("client", "create", "--name", "okta", "--auth", "static_token", "--provider", "Okta SSO")
	if !strings.Contains(out, "name:") || !strings.Contains(out, "okta") || !strings.Contains(out, "Okta SSO") {
		t.Fatalf("create output: %s", out)
	}
	if _, _, err := c.run("client", "create", "--name", "OKTA"); err == nil || !strings.Contains(err.Error(), "already exists") || strings.Contains(err.Error(), "tokenstore") {
		t.Fatalf("duplicate: %v", err)
	}
	c.usage("--issuer", "client", "create", "--name", "kc", "--auth", "idp_jwt") // more in TestClientCreateIdPJWT
	c.ok("client", "create", "--name", "kc", "--auth", "idp_jwt", "--issuer", "https://kc.example.com/realms/r",
		"--subject", "sa", "--audience", "scimgate")
	c.usage("--auth", "client", "create", "--name", "x", "--auth", "password")
	c.usage("--name", "client", "create")
	c.usage("--name", "client", "create", "--name", "bad name")
	c.usage("-bogus", "client", "create", "--name", "x", "--bogus")
	c.usage("-o", "client", "list", "-o", "yaml")
	c.usage("unknown subcommand", "client", "frob")

	table := c.ok("client", "list")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[2], "okta") ||
		strings.Index(lines[0], "NAME") != strings.Index(lines[1], "kc") {
		t.Fatalf("client table not aligned:\n%s", table)
	}
	var clients []adminapi.ClientJSON
	if err := json.Unmarshal([]byte(c.ok("client", "list", "-o", "json")), &clients); err != nil || len(clients) != 2 {
		t.Fatalf("json list: %v %+v", err, clients)
	}
	okta := clients[1]
	var shown adminapi.ClientJSON
	if err := json.Unmarshal([]byte(c.ok("client", "show", okta.ID, "-o", "json")), &shown); err != nil || shown.Name != "okta" {
		t.Fatalf("show by id: %v %+v", err, shown)
	}

	// token create prints the token alone on stdout, and the token works.
	tok := c.ok("token", "create", "--client", "okta", "--name", "prod", "--scopes", "scim_v2:read,api_v3", "--expires", "7d", "--allow-ip", "10.0.0.0/8,192.0.2.1")
	if !strings.HasSuffix(tok, "\n") || strings.Count(tok, "\n") != 1 || auth.CheckSecret(auth.StaticTokenPrefix, strings.TrimSpace(tok)) != nil {
		t.Fatalf("token create stdout %q", tok)
	}
	tok = strings.TrimSpace(tok)
	store, err := tokenstore.NewRedis(redis.NewClient(&redis.Options{Addr: m.Addr()}), tokenstore.Options{Prefix: "scimgate:"})
	if err != nil {
		t.Fatal(err)
	}
	a := auth.NewStaticTokens(store, auth.NewTokenHasher("cli-pepper-0123456789abcdef0123456789"), 0)
	p, err := a.Authenticate(context.Background(), auth.Request{Token: tok, RemoteIP: netip.MustParseAddr("10.1.2.3"), Now: time.Now()})
	if err != nil || p.ClientName != "okta" || strings.Join(p.Scopes, ",") != "scim_v2:read,api_v3" {
		t.Fatalf("CLI token does not authenticate: %+v %v", p, err)
	}

	c.usage("--expires", "token", "create", "--client", "okta", "--expires", "2w")
	c.usage("--scopes", "token", "create", "--client", "okta", "--scopes", "scim_v2,root")
	c.usage("--allow-ip", "token", "create", "--client", "okta", "--allow-ip", "10.0.0.300")
	c.usage("--client", "token", "create")
	if _, _, err := c.run("token", "create", "--client", "kc"); err == nil || !strings.Contains(err.Error(), "static tokens") {
		t.Fatalf("token for an idp_jwt client: %v", err)
	}
	if _, _, err := c.run("token", "create", "--client", "nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("token for unknown client: %v", err)
	}

	var tokens []adminapi.TokenJSON
	if err := json.Unmarshal([]byte(c.ok("token", "list", "--client", "okta", "-o", "json")), &tokens); err != nil ||
		len(tokens) != 1 || tokens[0].Status != "active" || tokens[0].LastUsedIP != "10.1.2.3" || tokens[0].Token != "" {
		t.Fatalf("token list: %v %+v", err, tokens)
	}
	out = c.ok("token", "list")
	if !strings.Contains(out, "LAST USED") || !strings.Contains(out, "active") || !strings.Contains(out, "10.1.2.3") || strings.Contains(out, tok) ||
		!strings.Contains(out, "opst-…"+tok[len(tok)-4:]) {
		t.Fatalf("token table:\n%s", out)
	}
	c.ok("token", "revoke", tokens[0].ID)
	if out := c.ok("token", "list", "--client", okta.ID); !strings.Contains(out, "revoked") {
		t.Fatalf("after revoke:\n%s", out)
	}
	if _, err := a.Authenticate(context.Background(), auth.Request{Token: tok, RemoteIP: netip.MustParseAddr("10.1.2.3"), Now: time.Now()}); err == nil {
		t.Fatal("revoked token still authenticates")
	}

	if out := c.ok("client", "update", "okta", "--enabled=false", "--provider", "Okta 2"); !strings.Contains(out, "false") || !strings.Contains(out, "Okta 2") {
		t.Fatalf("update:\n%s", out)
	}
	c.usage("-enabled", "client", "update", "okta", "--enabled=maybe")
	c.usage("nothing to change", "client", "update", "okta")
	c.ok("client", "delete", "okta")
	if _, _, err := c.run("client", "show", "okta"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("show deleted: %v", err)
	}
}

func TestAdminCLIRefusesEmbeddedMode(t *testing.T) {
	c := cli{t: t}
	for _, args := range [][]string{{"client", "list"}, {"token", "list"}, {"token", "create", "--client", "default"}} {
		c.usage("embedded Redis lives inside", args...)
	}
}
