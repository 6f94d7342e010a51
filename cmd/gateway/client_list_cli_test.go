package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
)

func TestClientListPaging(t *testing.T) {
	m := miniredis.RunT(t)
	c := cli{t: t, url: "redis://" + m.Addr()}
	for _, n := range []string{"okta-b", "Okta-A", "entra", "okta-c"} {
		c.ok("client", "create", "--name", n)
	}
	names := func(table string) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(table), "\n")[1:] {
			out = append(out, strings.Fields(l)[1])
		}
		return out
	}
	if got := strings.Join(names(c.ok("client", "list")), ","); got != "entra,Okta-A,okta-b,okta-c" {
		t.Fatalf("every page = %s", got)
	}
	out, stderr, err := c.run("client", "list", "--search", "OKTA", "--limit", "2")
	if err != nil || strings.Join(names(out), ",") != "Okta-A,okta-b" || !strings.HasPrefix(stderr, "more clients: --cursor ") {
		t.Fatalf("first page: %v\n%s\n%s", err, out, stderr)
	}
	cursor := strings.TrimSpace(strings.TrimPrefix(stderr, "more clients: --cursor "))
	out, stderr, err = c.run("client", "list", "--search", "OKTA", "--limit", "2", "--cursor", cursor)
	if err != nil || strings.Join(names(out), ",") != "okta-c" || stderr != "" {
		t.Fatalf("last page: %v\n%s\n%s", err, out, stderr)
	}
	c.usage("--limit", "client", "list", "--limit", "201")
	c.usage("--cursor", "client", "list", "--cursor", cursor)
	if _, _, err := c.run("client", "list", "--limit", "2", "--cursor", "%%"); err == nil || !strings.Contains(err.Error(), "cursor") {
		t.Fatalf("bad cursor: %v", err)
	}
}

// TestCLIOfferedScopes: scopes.offered limits the CLI as it limits the
// admin API (a client keeps the scopes it has), and client update
// --scopes sets a client_credentials client's allowed scopes.
func TestCLIOfferedScopes(t *testing.T) {
	m := miniredis.RunT(t)
	c := cli{t: t, url: "redis://" + m.Addr()}
	c.ok("client", "create", "--name", "m2m", "--auth", "client_credentials")
	out := c.ok("client", "update", "m2m", "--scopes", "scim_v2:read,api_v3", "-o", "json")
	if !strings.Contains(out, `"scim_v2:read"`) || !strings.Contains(out, `"api_v3"`) {
		t.Fatalf("update --scopes: %s", out)
	}
	env := func(k string) (string, bool) {
		if k == "SCIMGATE_SCOPES_OFFERED" {
			return "scim_v2,scim_v2:read", true
		}
		return c.env(k)
	}
	c.ok("client", "create", "--name", "okta")
	// m2m keeps api_v3, which it has; bcf_v2_1 is new and not offered.
	for want, args := range map[string][]string{
		"bcf_v2_1": {"client", "update", "m2m", "--scopes", "api_v3,bcf_v2_1"},
		"api_v3":   {"token", "create", "--client", "okta", "--scopes", "api_v3"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut, env)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), `--scopes: "`+want+`" is not an offered scope`) {
			t.Fatalf("gateway %s: %v, want a usage error naming --scopes and %s", strings.Join(args, " "), err, want)
		}
	}
}
