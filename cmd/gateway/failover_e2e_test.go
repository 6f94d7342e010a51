package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/redistest"
)

// Failover tests: the gateway in front of a real Redis Cluster and a real
// Sentinel set whose master is killed (kill -9) while workers write and
// read. Issue 13's target: no 500, every error 503 with Retry-After, every
// acknowledged write present afterwards, and errors for at most
// failoverSlack beyond Redis's own promotion.
//
// Replication is asynchronous (the gateway does not WAIT): a write the
// master acknowledged in the last instant before the kill, before its
// replication stream left the socket, could be lost with the master. On
// loopback that window is usually microseconds wide, but on a starved
// 2-core machine a replica has been seen to miss a write acknowledged just
// before the kill (TestFaultClusterFailover: 2 of about 6 runs on a loaded
// machine, 2026-12), so such a loss is tolerated within replicationLag of the kill,
// one per worker at most, and logged; any other loss fails.

// replicationLag is how long before a master's kill an acknowledged write
// may still be missing from the promoted replica.
const replicationLag = 250 * time.Millisecond

// failoverSlack is how long after Redis's promotion the gateway may still
// answer errors (issue 13).
const failoverSlack = 2 * time.Second

// failoverWorkers write and read concurrently; kept small for 2-core CI
// under -race.
const failoverWorkers = 4

// traffic runs workers that each POST a fresh user and GET it back, until
// stop closes. It returns each POST's answer by userName and every
// answer (POSTs and GETs).
func (g *faultGateway) traffic(prefix string, workers int, stop <-chan struct{}) (posts map[string]answer, all []answer) {
	return g.run(prefix, workers, true, stop)
}

// run is traffic, with the read-back of each created user only when
// readBack is set.
func (g *faultGateway) run(prefix string, workers int, readBack bool, stop <-chan struct{}) (posts map[string]answer, all []answer) {
	posts = map[string]answer{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("%s-%d-%d", prefix, w, i)
				p := g.createUser(name)
				got := []answer{p}
				if readBack && p.code == http.StatusCreated {
					var u struct{ ID string }
					_ = json.Unmarshal([]byte(p.body), &u)
					got = append(got, g.do("GET", "/scim/v2/Users/"+u.ID, ""))
				}
				mu.Lock()
				posts[name] = p
				all = append(all, got...)
				mu.Unlock()
				if got[len(got)-1].code >= 300 {
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	return posts, all
}

// failover is what one failover run measured.
type failover struct {
	killed, promoted    time.Time
	firstErr, lastErr   time.Time // start of the first error, end of the last
	errors, total       int
	created, refused    int
	unknown             int // refused writes in flight at the kill that Redis applied
	readyzDuringOutage  int
	readyzAfterRecovery int
}

func (f failover) String() string {
	s := fmt.Sprintf("promotion %s after kill -9; %d of %d requests failed (all 503 + Retry-After)",
		f.promoted.Sub(f.killed).Round(time.Millisecond), f.errors, f.total)
	if f.errors > 0 {
		s += fmt.Sprintf(", error window %s (first error started %s after the kill, last ended %s after promotion)",
			f.lastErr.Sub(f.firstErr).Round(time.Millisecond), f.firstErr.Sub(f.killed).Round(time.Millisecond),
			f.lastErr.Sub(f.promoted).Round(time.Millisecond))
	}
	return s + fmt.Sprintf("; %d writes acknowledged (all present), %d answered 503 (%d of them in flight at the kill and applied); /readyz %d during the outage, %d after",
		f.created, f.refused, f.unknown, f.readyzDuringOutage, f.readyzAfterRecovery)
}

// runFailover drives traffic through g, calls kill, waits (at most 20 s)
// for promoted to report true, lets traffic run failoverSlack plus a
// second longer, and checks issue 13's contract.
func runFailover(t *testing.T, g *faultGateway, kill func(), promoted func() bool) failover {
	t.Helper()
	if a := g.createUser("before"); a.code != http.StatusCreated {
		t.Fatalf("healthy POST: %d %s", a.code, a.body)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	var posts map[string]answer
	var all []answer
	go func() { posts, all = g.traffic("fo", failoverWorkers, stop); close(done) }()
	time.Sleep(500 * time.Millisecond)
	var f failover
	kill()
	f.killed = time.Now()
	f.readyzDuringOutage = g.readyz().code
	for !promoted() {
		if time.Since(f.killed) > 20*time.Second {
			close(stop)
			<-done
			t.Fatal("redis did not promote a replica within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.promoted = time.Now()
	time.Sleep(failoverSlack + time.Second)
	close(stop)
	<-done

	f.total = len(all)
	for _, a := range all {
		if a.code < 300 {
			continue
		}
		g.checkFault("during failover", a)
		f.errors++
		if end := a.start.Add(a.took); end.After(f.lastErr) {
			f.lastErr = end
		}
		if f.firstErr.IsZero() || a.start.Before(f.firstErr) {
			f.firstErr = a.start
		}
	}
	if f.errors > 0 && f.lastErr.Sub(f.promoted) > failoverSlack {
		t.Errorf("errors went on %s after promotion (target %s): %s", f.lastErr.Sub(f.promoted), failoverSlack, f)
	}
	if f.readyzDuringOutage == http.StatusOK {
		t.Errorf("/readyz answered 200 with the master dead")
	}
	// Readiness must come back; one check may miss the 300 ms ready
	// timeout on a starved CI machine (seen once in 13 runs, cause not
	// caught), so it gets failoverSlack to answer 200; misses are logged
	// with the gateway's reason.
	recovered := time.Now()
	r := g.readyz()
	missed := r.code != http.StatusOK
	for r.code != http.StatusOK && time.Since(recovered) < failoverSlack {
		t.Logf("/readyz %s after promotion: %d after %s: %s", time.Since(f.promoted).Round(time.Millisecond), r.code, r.took, r.body)
		time.Sleep(100 * time.Millisecond)
		r = g.readyz()
	}
	f.readyzAfterRecovery = r.code
	if missed { // the gateway's reasons, the outage's included
		for _, l := range strings.Split(g.logs.String(), "\n") {
			if strings.Contains(l, "readiness") {
				t.Log(l)
			}
		}
	}
	if r.code != http.StatusOK {
		t.Errorf("/readyz still %d %s after promotion (took %s): %s", r.code, time.Since(f.promoted).Round(time.Millisecond), r.took, r.body)
	}
	f.created, f.refused, f.unknown = g.checkWrites(posts, f.killed, failoverWorkers, replicationLag)
	if !g.present("before") {
		t.Error("the user written before the failover is missing")
	}
	if f.created == 0 {
		t.Error("no write was acknowledged")
	}
	t.Log(f)
	return f
}

// TestFaultClusterFailover: a real 6-node Redis Cluster (3 masters, 3
// replicas); the master serving the {scim} slot is killed. The issue saw
// 500s for 14 s to over 50 s while go-redis kept dialling the dead master.
func TestFaultClusterFailover(t *testing.T) {
	c := redistest.StartCluster(t, 3, 1, 1500*time.Millisecond)
	master, replica := c.MasterOf("{scim}")
	g := startFaultGateway(t, c.URL())
	runFailover(t, g, master.Kill, func() bool { return redistest.IsMaster(replica) })
}

// TestFaultSentinelFailover: a master, a replica and three sentinels
// (quorum 2, down-after 1 s); the master is killed. Promotion counts from
// the kill until the first sentinel names the replica as master (clients
// learn the new master from the sentinels). The issue saw 2.6-4.3 s of
// errors, 500s among them.
func TestFaultSentinelFailover(t *testing.T) {
	s := redistest.StartSentinelSet(t, "mymaster", 3, time.Second, 3*time.Second)
	g := startFaultGateway(t, s.URL())
	runFailover(t, g, s.Master.Kill, func() bool { return s.Reports(s.Replica.Addr()) })
}
