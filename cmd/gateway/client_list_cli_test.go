package main

import (
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
