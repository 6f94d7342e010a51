package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/redistest"
)

// floodSource is the address of the i-th of 500 sources: 400 IPv4
// addresses and 100 IPv6 addresses, each in a /64 of its own.
func floodSource(i int) string {
	if i < 400 {
		return fmt.Sprintf("198.18.%d.%d", i/250, 1+i%250)
	}
	return fmt.Sprintf("2001:db8:%x::%x", i, i)
}

// authFailedEvents reads every AUTH_FAILED event of the stream.
func authFailedEvents(t *testing.T, l *audit.Log) []audit.Event {
	t.Helper()
	var all []audit.Event
	q := audit.Query{Action: audit.AuthFailed, Limit: 1000}
	for {
		p, err := l.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Events...)
		if p.Next == "" {
			return all
		}
		q.Cursor = p.Next
	}
}

// TestAuthFailureFloodIsAggregated sends 10,000 failed authentications
// (2,500 under the race detector) from 500 source addresses through the whole gateway (real listener, gin
// engine, guards, authenticators): SCIM bearer tokens, plus admin tokens
// and client secrets at the token endpoint. Each address stays within its
// failure budget (20), so every failure is counted, and yet the audit
// stream grows by at most audit.auth_failure_keys + 1 = 101 events per
// minute the flood touches (101, or 202 across a minute boundary), whose
// counts add up to exactly the failures sent. It uses the real Redis named by
// SCIMGATE_TEST_REDIS_URL when set (about 5 s under -race; miniredis runs
// Lua slowly).
func TestAuthFailureFloodIsAggregated(t *testing.T) {
	cfg := config.Default()
	rdb := floodRedis(t, &cfg)
	cfg.Admin.Token = "opadm-flood-test-admin-token"
	cfg.TrustedProxies = "127.0.0.1/32"
	cfg.OAuth.MaxAuthFailures = 20
	base, logs := startGateway(t, cfg)

	// Under the race detector (CI) 2,500 failures (5 per source) keep the
	// test near 10 s; without it, the full 10,000 take about 5 s.
	const sources = 500
	perSource := 20
	if raceEnabled {
		perSource = 5
	}
	type attempt struct{ method, path, auth, body, from string }
	attempts := make(chan attempt, 64)
	go func() {
		defer close(attempts)
		for n := range sources * perSource {
			i := n % sources
			a := attempt{method: http.MethodGet, path: "/scim/v2/Users", auth: fmt.Sprintf("Bearer opst-bad-%d", n), from: floodSource(i)}
			switch {
			case n%50 == 7:
				a.path, a.auth = "/admin/api/v1/clients", fmt.Sprintf("Bearer opadm-guess-%d", n)
			case n%500 == 9:
				a.method, a.path, a.auth = http.MethodPost, "/oauth/token", ""
				a.body = url.Values{"grant_type": {"client_credentials"}, "client_id": {fmt.Sprintf("guess-%d", n)},
					"client_secret": {"opcs-guess"}}.Encode()
			}
			attempts <- a
		}
	}()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for range 16 {
		wg.Go(func() {
			for a := range attempts {
				req, _ := http.NewRequest(a.method, base+a.path, strings.NewReader(a.body))
				if a.auth != "" {
					req.Header.Set("Authorization", a.auth)
				}
				if a.body != "" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				req.Header.Set("X-Forwarded-For", a.from)
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	minutes := time.Now().Unix()/60 - start.Unix()/60 + 1
	t.Logf("%d failed authentications from %d sources in %s: %v", sources*perSource, sources, time.Since(start).Round(time.Millisecond), codes)
	if codes[http.StatusUnauthorized] != sources*perSource {
		t.Fatalf("answers %v, want %d × 401 (every source within its budget)\n%.4000s", codes, sources*perSource, logs)
	}

	// Close the open minute as the next minute's first failure, or the
	// periodic flusher, would.
	events := audit.NewLog(rdb, cfg.Redis.Prefix, 0)
	if err := audit.NewFailures(rdb, cfg.Redis.Prefix, events, 0).Flush(context.Background(), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	evs := authFailedEvents(t, events)
	streamLen, _ := rdb.XLen(context.Background(), audit.Key(cfg.Redis.Prefix)).Result()
	// At most cap + 1 aggregates per minute the flood touched.
	bound := minutes * (audit.DefaultFailureKeys + 1)
	t.Logf("audit stream: %d entries, %d AUTH_FAILED aggregates (bound %d for %d minutes)", streamLen, len(evs), bound, minutes)
	if int64(len(evs)) > bound || streamLen > bound {
		t.Fatalf("%d AUTH_FAILED events (stream %d) for 10,000 failures, want at most %d", len(evs), streamLen, bound)
	}
	var total int64
	routes := map[string]int64{}
	for _, e := range evs {
		total += e.Count
		routes[e.Route] += e.Count
		if e.Network == "" || e.First == nil || e.Last == nil || e.Reason == "" {
			t.Errorf("incomplete aggregate %+v", e)
		}
		if e.Network != audit.OtherNetwork && (e.RequestID == "" || e.Network != floodNetwork(e.Network)) {
			t.Errorf("aggregate %+v", e)
		}
	}
	if total != int64(sources*perSource) || routes[audit.RouteSCIM] == 0 || routes[audit.RouteAdmin] == 0 || routes[audit.RouteOAuth] == 0 {
		t.Errorf("aggregates count %d failures by route %v, want %d over scim, admin and oauth", total, routes, sources*perSource)
	}
}

// floodRedis points cfg at the real test Redis (under a prefix of the
// test's own) or, without one, at a miniredis, and returns a client on it.
func floodRedis(t *testing.T, cfg *config.Config) redis.UniversalClient {
	t.Helper()
	if os.Getenv(redistest.EnvURL) != "" {
		r := redistest.Real(t)
		cfg.Redis.URL, cfg.Redis.Prefix = os.Getenv(redistest.EnvURL), r.Prefix
		return r.Client
	}
	m := miniredis.RunT(t)
	cfg.Redis.URL = "redis://" + m.Addr()
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// floodNetwork checks the shape of a network: an IPv4 address of the
// flood, or an IPv6 /64.
func floodNetwork(n string) string {
	if strings.HasPrefix(n, "198.18.") || strings.HasPrefix(n, "2001:db8:") && strings.HasSuffix(n, "::/64") {
		return n
	}
	return "unexpected " + n
}
