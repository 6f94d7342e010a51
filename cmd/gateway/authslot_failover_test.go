package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/redistest"
)

// TestAuthSlotFailover measures what deploy/README.md states about the
// shared {auth} slot on a real Redis Cluster (3 masters, 3 replicas,
// cluster-require-full-coverage no): the master serving the credentials
// ({auth}) is killed while directories whose own data lives on the other
// masters keep writing. Their requests fail only as 503 with Retry-After
// (authentication reads the token from {auth}; a token verified in the
// last tokens.cache_ttl is served from the replica's cache), and only
// until the replica of {auth} is promoted.
func TestAuthSlotFailover(t *testing.T) {
	const dirs = 4
	c := redistest.StartCluster(t, 3, 1, 1500*time.Millisecond, "--cluster-require-full-coverage", "no")
	g := startFaultGateway(t, c.URL())
	cl := cli{t: t, url: c.URL()}
	authMaster, authReplica := c.MasterOf("{auth}")

	type dir struct {
		name string
		g    *faultGateway
	}
	var others []*dir
	for i := range dirs {
		name := fmt.Sprintf("auth%02d", i)
		var d struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(cl.ok("directory", "create", "--name", name, "-o", "json")), &d); err != nil || d.ID == "" {
			t.Fatalf("directory %s: %v", name, err)
		}
		cl.ok("client", "create", "--name", name+"-idp", "--directory", name)
		tok := strings.TrimSpace(cl.ok("token", "create", "--client", name+"-idp", "--expires", "1d"))
		if m, _ := c.MasterOf("{d:" + d.ID + "}"); m.Addr() == authMaster.Addr() {
			continue // its data fails with the master anyway
		}
		dg := *g
		dg.token = tok
		others = append(others, &dir{name: name, g: &dg})
	}
	if len(others) == 0 {
		t.Skip("every directory landed on the {auth} master")
	}

	stop := make(chan struct{})
	type result struct {
		d   *dir
		all []answer
	}
	results := make(chan result, len(others))
	for _, d := range others {
		go func() {
			_, answers := d.g.run("as-"+d.name, 1, false, stop)
			results <- result{d, answers}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	authMaster.Kill()
	killed := time.Now()
	for !redistest.IsMaster(authReplica) {
		if time.Since(killed) > 20*time.Second {
			close(stop)
			t.Fatal("no replica of {auth} promoted within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	promoted := time.Now()
	time.Sleep(failoverSlack + time.Second)
	close(stop)

	var total, errs, hitDirs int
	var firstErr, lastErr time.Time
	for range others {
		r := <-results
		total += len(r.all)
		n := 0
		for _, a := range r.all {
			if a.code < 300 {
				continue
			}
			n++
			r.d.g.checkFault("directory off the {auth} master", a)
			if firstErr.IsZero() || a.start.Before(firstErr) {
				firstErr = a.start
			}
			if end := a.start.Add(a.took); end.After(lastErr) {
				lastErr = end
			}
		}
		errs += n
		if n > 0 {
			hitDirs++
		}
		if a := r.d.g.createUser("after-" + r.d.name); a.code != http.StatusCreated {
			t.Errorf("directory %s did not recover: %d %s", r.d.name, a.code, a.body)
		}
	}
	if errs > 0 && lastErr.Sub(promoted) > failoverSlack {
		t.Errorf("errors went on %s after the promotion of {auth}", lastErr.Sub(promoted))
	}
	window := "none"
	if errs > 0 {
		window = fmt.Sprintf("from %s after the kill to %s after promotion", firstErr.Sub(killed).Round(time.Millisecond),
			lastErr.Sub(promoted).Round(time.Millisecond))
	}
	t.Logf("killed the {auth} master %s (promotion %s): %d of %d directories on other masters saw errors, %d of %d requests, all 503 + Retry-After; error window %s",
		authMaster.Addr(), promoted.Sub(killed).Round(time.Millisecond), hitDirs, len(others), errs, total, window)
}
