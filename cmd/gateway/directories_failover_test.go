package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/redistest"
)

// TestDirectoriesFailoverIsolated is issue 15's scale-out evidence on a
// real Redis Cluster (3 masters, 3 replicas): directories spread over the
// masters by their own hash tags, and killing one master interrupts only
// the directories it holds. The directories on the other masters see no
// error at all; those on the killed one see only 503 with Retry-After and
// recover once the replica is promoted. The credential keys ({auth}) are
// shared by every directory, so the master killed is one that does not
// serve them. The nodes run with cluster-require-full-coverage no, as
// deploy/README.md asks: with Redis's default (yes) every master refuses
// every command (CLUSTERDOWN) while any slot is unserved, which turns one
// master's failure into an outage of all directories.
func TestDirectoriesFailoverIsolated(t *testing.T) {
	const dirs = 12
	c := redistest.StartCluster(t, 3, 1, 1500*time.Millisecond, "--cluster-require-full-coverage", "no")
	g := startFaultGateway(t, c.URL())
	cl := cli{t: t, url: c.URL()}

	type dir struct {
		name, master string
		replica      *redistest.Server
		g            *faultGateway
	}
	authMaster, _ := c.MasterOf("{auth}")
	oauthMaster, _ := c.MasterOf("{oauth}")
	var all []*dir
	perMaster := map[string]int{}
	// Directory ids are random: with 12 of them, all land on two of the
	// three masters about 2 % of the time; more are created until each
	// master has one (at most twice as many).
	for i := 0; i < dirs || (len(perMaster) < 3 && i < 2*dirs); i++ {
		name := fmt.Sprintf("tenant%02d", i)
		var d struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(cl.ok("directory", "create", "--name", name, "-o", "json")), &d); err != nil || d.ID == "" {
			t.Fatalf("directory %s: %v", name, err)
		}
		cl.ok("client", "create", "--name", name+"-idp", "--directory", name)
		tok := strings.TrimSpace(cl.ok("token", "create", "--client", name+"-idp", "--expires", "1d"))
		m, r := c.MasterOf("{d:" + d.ID + "}")
		dg := *g
		dg.token = tok
		all = append(all, &dir{name: name, master: m.Addr(), replica: r, g: &dg})
		perMaster[m.Addr()]++
	}
	var masters []string
	for m := range perMaster {
		masters = append(masters, m)
	}
	sort.Strings(masters)
	t.Logf("%d directories over %d masters: %v ({auth} on %s)", len(all), len(perMaster), perMaster, authMaster.Addr())
	if len(perMaster) < 3 {
		t.Fatalf("directories did not spread over all three masters: %v", perMaster)
	}
	// The victim: a master that holds directories but not the credentials.
	var victim, replica *redistest.Server
	for _, m := range masters {
		if m == authMaster.Addr() || m == oauthMaster.Addr() {
			continue
		}
		for _, d := range all {
			if d.master == m {
				victim, replica = c.Node(m), d.replica
				break
			}
		}
		if victim != nil {
			break
		}
	}
	if victim == nil {
		t.Skip("every master with directories also serves {auth} or {oauth}")
	}

	stop := make(chan struct{})
	type result struct {
		d   *dir
		all []answer
	}
	results := make(chan result, len(all))
	for _, d := range all {
		go func() {
			_, answers := d.g.traffic("fo-"+d.name, 1, stop)
			results <- result{d, answers}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	victim.Kill()
	killed := time.Now()
	for !redistest.IsMaster(replica) {
		if time.Since(killed) > 20*time.Second {
			close(stop)
			t.Fatal("no replica promoted within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	promoted := time.Now()
	time.Sleep(failoverSlack + time.Second)
	close(stop)

	var hitErrs, hitDirs, otherReqs int
	for range all {
		r := <-results
		onVictim := r.d.master == victim.Addr()
		var errs int
		var lastErr time.Time
		for _, a := range r.all {
			if a.code < 300 {
				continue
			}
			errs++
			if !onVictim {
				t.Errorf("directory %s on a surviving master got %d: %s", r.d.name, a.code, a.body)
				continue
			}
			r.d.g.checkFault("directory on the killed master", a)
			if end := a.start.Add(a.took); end.After(lastErr) {
				lastErr = end
			}
		}
		if onVictim {
			hitDirs++
			hitErrs += errs
			if errs > 0 && lastErr.Sub(promoted) > failoverSlack {
				t.Errorf("directory %s: errors went on %s after promotion", r.d.name, lastErr.Sub(promoted))
			}
			if a := r.d.g.createUser("after-" + r.d.name); a.code != http.StatusCreated {
				t.Errorf("directory %s did not recover: %d %s", r.d.name, a.code, a.body)
			}
		} else {
			otherReqs += len(r.all)
		}
	}
	t.Logf("killed %s (promotion %s): %d directories on it saw %d errors, all 503 + Retry-After; %d requests of the %d other directories, none failed",
		victim.Addr(), promoted.Sub(killed).Round(time.Millisecond), hitDirs, hitErrs, otherReqs, dirs-hitDirs)
}
