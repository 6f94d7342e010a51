package main

import (
	"encoding/json"
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
