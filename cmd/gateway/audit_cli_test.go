package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/scimgate/scimgate/audit"
)

func TestAuditReportAndRateLimitCLI(t *testing.T) {
	m := miniredis.RunT(t)
	c := cli{t: t, url: "redis://" + m.Addr()}
	c.ok("client", "create", "--name", "okta")
	c.ok("token", "create", "--client", "okta", "--name", "t1")
	out := c.ok("client", "update", "okta", "--rate-limit", "50/s", "--burst", "80")
	if !strings.Contains(out, "50/s burst 80") {
		t.Errorf("client show lacks the rate limit:\n%s", out)
	}
	c.usage("--rate-limit", "client", "update", "okta", "--rate-limit", "fast")
	c.usage("--burst", "client", "update", "okta", "--rate-limit", "default", "--burst", "3")
	var cj struct {
		RateLimit *struct {
			Rate  string
			Burst int
		} `json:"rate_limit"`
	}
	if err := json.Unmarshal([]byte(c.ok("client", "update", "okta", "--rate-limit", "default", "-o", "json")), &cj); err != nil || cj.RateLimit != nil {
		t.Errorf("--rate-limit default did not clear the override: %+v %v", cj, err)
	}

	// audit query: NDJSON, one line per admin action, oldest first.
	out = c.ok("audit", "query", "-o", "ndjson")
	var actions []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e audit.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if e.Actor.AuthMethod != "admin" {
			t.Errorf("actor %+v", e.Actor)
		}
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "CLIENT_CREATED,TOKEN_CREATED,CLIENT_UPDATED,CLIENT_UPDATED" {
		t.Errorf("audit actions %s", got)
	}
	if out := c.ok("audit", "query", "--action", "token_created"); !strings.Contains(out, "TOKEN_CREATED") || strings.Contains(out, "CLIENT_CREATED") {
		t.Errorf("table filtered by action:\n%s", out)
	}
	_, stderr, err := c.run("audit", "query", "--limit", "1")
	if err != nil || !strings.Contains(stderr, "--cursor ") {
		t.Errorf("no next cursor hint: %v %s", err, stderr)
	}
	c.usage("-o", "audit", "query", "-o", "xml")
	c.usage("--since", "audit", "query", "--since", "soon")

	// tail -n prints the newest events; -f follows until interrupted.
	if out := c.ok("audit", "tail", "-n", "1"); strings.Count(out, "\n") != 1 || !strings.Contains(out, "CLIENT_UPDATED") {
		t.Errorf("tail -n 1:\n%s", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var buf strings.Builder
	if err := run(ctx, []string{"audit", "tail", "-n", "0", "-f"}, &buf, &buf, c.env); err != nil {
		t.Errorf("tail -f ended with %v", err)
	}

	// report credentials: CSV with one token row.
	rows, err := csv.NewReader(strings.NewReader(c.ok("report", "credentials", "-o", "csv"))).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][2] != "static_token" || !strings.Contains(rows[1][13], "never_used") {
		t.Errorf("csv report: %v %v", rows, err)
	}
	if out := c.ok("report", "credentials"); !strings.Contains(out, "okta") || !strings.Contains(out, "never_used") {
		t.Errorf("table report:\n%s", out)
	}
	c.usage("report", "report", "tokens")
}
