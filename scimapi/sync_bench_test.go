package scimapi_test

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimgate/scimgate/redistest"
)

// BenchmarkInitialSync is an IdP's initial sync in the Entra pattern: for
// each user, `GET /Users?filter=userName eq "…"` (not found), then POST
// the user, 16 at a time, through the whole handler (routing, auth, JSON,
// store with its audit and change events) on a redis-server of its own.
// It reports the wall time of the sync and Redis memory per user after it.
// SCIMGATE_BENCH_SYNC_USERS sets the number of users (default 10,000; the
// issue's figure is for 100,000):
//
//	SCIMGATE_BENCH_SYNC_USERS=100000 go test -run '^$' -bench InitialSync -benchtime 1x ./scimapi/
func BenchmarkInitialSync(b *testing.B) {
	n := 10000
	if v := os.Getenv("SCIMGATE_BENCH_SYNC_USERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("SCIMGATE_BENCH_SYNC_USERS=%q", v)
		}
	}
	const workers = 16
	for b.Loop() {
		srv := redistest.StartServer(b)
		c := srv.Client()
		e := newEnv(&testing.T{}, &redistest.Redis{Client: c, Prefix: "scimgate:"}, false)
		before := redistest.UsedMemory(b, c)
		cpu0 := redistest.CPU(b, c)
		var failed atomic.Int64
		var wg sync.WaitGroup
		work := make(chan int)
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for i := range work {
					name := fmt.Sprintf("user%06d@contoso.com", i)
					if r := e.do("GET", "/scim/v2/Users?filter="+urlq(`userName eq "`+name+`"`), nil); r.code != 200 || r.body["totalResults"] != float64(0) {
						failed.Add(1)
						continue
					}
					if r := e.do("POST", "/scim/v2/Users", entraSyncUser(i, name)); r.code != 201 {
						failed.Add(1)
					}
				}
			})
		}
		for i := range n {
			work <- i
		}
		close(work)
		wg.Wait()
		wall := time.Since(start)
		if f := failed.Load(); f > 0 {
			b.Fatalf("%d of %d users failed", f, n)
		}
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(n)/wall.Seconds(), "users/s")
		b.ReportMetric(float64(redistest.UsedMemory(b, c)-before)/float64(n), "B/user")
		b.ReportMetric(float64((redistest.CPU(b, c)-cpu0).Microseconds())/float64(n), "redis-cpu-µs/user")
		srv.Kill()
	}
}

// entraSyncUser is a user as Entra's default attribute mapping sends it.
func entraSyncUser(i int, name string) map[string]any {
	return map[string]any{
		"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"userName": name, "externalId": fmt.Sprintf("user%06d", i), "active": true,
		"displayName": fmt.Sprintf("Given%d Family%d", i, i%997), "title": "Software Engineer",
		"emails": []any{map[string]any{"primary": true, "type": "work", "value": name}},
		"name": map[string]any{"formatted": fmt.Sprintf("Given%d Family%d", i, i%997),
			"familyName": fmt.Sprintf("Family%d", i%997), "givenName": fmt.Sprintf("Given%d", i)},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{
			"department": "Sales", "employeeNumber": strconv.Itoa(100000 + i)},
	}
}
