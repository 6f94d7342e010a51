package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
)

// hotPathUsers is how many users the hot-path benchmarks seed (the load
// harness's SEED).
const hotPathUsers = 10_000

// hotPathGateway is `gateway serve` as the load harness runs it
// (../shared/bench/scimgate-wrapper.sh): configured from the environment
// on a real redis-server, rate limit off, log level warn, with a bench
// client and a static token created by the CLI, and hotPathUsers
// Entra-shaped users seeded through the API.
type hotPathGateway struct {
	handler http.Handler
	base    string // http://addr of its loopback listener
	auth    string // Authorization header value
	ids     []string
	names   []string
	created atomic.Int64  // POST counter, unique over every run
	redis   *redis.Client // the same Redis, for its CPU time
}

func startHotPathGateway(b *testing.B) *hotPathGateway {
	b.Helper()
	srv := redistest.StartServer(b)
	env := map[string]string{
		"SCIMGATE_REDIS_URL":      srv.URL(),
		"SCIMGATE_RATELIMIT_RATE": "0",
		"SCIMGATE_LOG_LEVEL":      "warn",
		"SCIMGATE_LISTEN":         "127.0.0.1:0",
	}
	// The read cache is on by default; SCIMGATE_SCIM_READ_CACHE_MB=0 in the
	// environment compares without it.
	if v, ok := os.LookupEnv("SCIMGATE_SCIM_READ_CACHE_MB"); ok {
		env["SCIMGATE_SCIM_READ_CACHE_MB"] = v
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cli := func(args ...string) string {
		var out, errs bytes.Buffer
		if err := run(context.Background(), args, &out, &errs, lookup); err != nil {
			b.Fatalf("gateway %s: %v\n%s", strings.Join(args, " "), err, errs.String())
		}
		return out.String()
	}
	cli("client", "create", "--name", "bench")
	lines := strings.Fields(cli("token", "create", "--client", "bench", "--expires", "7d"))
	g := &hotPathGateway{auth: "Bearer " + lines[len(lines)-1], redis: redis.NewClient(&redis.Options{Addr: srv.Addr()})}
	b.Cleanup(func() { g.redis.Close() })

	logs := &lockedBuf{}
	cio := cliIO{stdout: logs, stderr: logs, env: lookup}
	handlerc := make(chan http.Handler, 1)
	cio.onHandler = func(h http.Handler) { handlerc <- h }
	cfg, err := serveConfig(nil, cio)
	if err != nil {
		b.Fatal(err)
	}
	g.base = serveInBackground(b, cfg, cio)
	g.handler = <-handlerc
	g.seed(b)
	return g
}

// seed creates hotPathUsers users through the handler, four at a time.
func (g *hotPathGateway) seed(b *testing.B) {
	g.ids, g.names = make([]string, hotPathUsers), make([]string, hotPathUsers)
	var wg sync.WaitGroup
	var failed atomic.Value
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			sink := &benchWriter{}
			for i := w; i < hotPathUsers; i += workers {
				name := fmt.Sprintf("Seed%06d@Example.com", i)
				sink.reset()
				g.handler.ServeHTTP(sink, g.request("POST", "/scim/v2/Users", hotPathUser(i, name)))
				var doc struct{ ID string }
				if err := json.Unmarshal(sink.body.Bytes(), &doc); sink.code != 201 || err != nil {
					failed.Store(fmt.Sprintf("seed %d: %d %s", i, sink.code, sink.body.String()))
					return
				}
				g.ids[i], g.names[i] = doc.ID, name
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		b.Fatal(f)
	}
}

// hotPathUser is a user as Entra's default attribute mapping sends it.
func hotPathUser(i int, name string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],` +
		`"userName":"` + name + `","externalId":"user` + strconv.Itoa(i) + `","active":true,` +
		`"displayName":"Given` + strconv.Itoa(i) + ` Family` + strconv.Itoa(i%997) + `","title":"Software Engineer",` +
		`"emails":[{"primary":true,"type":"work","value":"` + strings.ToLower(name) + `"}],` +
		`"name":{"formatted":"Given` + strconv.Itoa(i) + ` Family` + strconv.Itoa(i%997) + `","familyName":"Family` + strconv.Itoa(i%997) + `","givenName":"Given` + strconv.Itoa(i) + `"},` +
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales","employeeNumber":"` + strconv.Itoa(100000+i) + `"}}`
}

// request builds a request as the load generator sends it, from a
// loopback client.
func (g *hotPathGateway) request(method, target, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://127.0.0.1"+target, rd)
	if err != nil {
		panic(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("Authorization", g.auth)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	return req
}

// filterTarget is the `userName eq` lookup of seeded user i.
func (g *hotPathGateway) filterTarget(i int) string {
	return "/scim/v2/Users?filter=userName%20eq%20%22" + g.names[i%hotPathUsers] + "%22"
}

// postBody is a new user's body, unique over every run.
func (g *hotPathGateway) postBody() string {
	n := int(g.created.Add(1))
	return hotPathUser(hotPathUsers+n, "New"+strconv.Itoa(n)+"@Example.com")
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchWriter is a reusable http.ResponseWriter that keeps the status and
// body, so the handler's own allocations are what -benchmem counts.
type benchWriter struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (w *benchWriter) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}

func (w *benchWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *benchWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.body.Write(p)
}

func (w *benchWriter) reset() { clear(w.h); w.code = 0; w.body.Reset() }

// BenchmarkHotPath drives issue 14's three hot requests through the whole
// gateway as `gateway serve` wires it (request id, access log, metrics,
// static-token authentication, directory resolution, the SCIM handler,
// store and render on a real redis-server; rate limit off), seeded with
// 10,000 users: Get is GET /Users/{id} rotating over the seeded ids,
// FilterEq is GET /Users?filter=userName eq "…" with a different seeded
// userName each request, Post creates an Entra-shaped user, Patch replaces
// a seeded user's title. The plain
// sub-benchmarks call the engine's ServeHTTP (allocations are the
// gateway's); loopback/* send the same requests over a real listener.
func BenchmarkHotPath(b *testing.B) {
	g := startHotPathGateway(b)
	type scenario struct {
		name   string
		status int
		req    func(i int) *http.Request
	}
	scenarios := []scenario{
		{"Get", 200, func(i int) *http.Request { return g.request("GET", "/scim/v2/Users/"+g.ids[i%hotPathUsers], "") }},
		{"FilterEq", 200, func(i int) *http.Request { return g.request("GET", g.filterTarget(i), "") }},
		{"Post", 201, func(int) *http.Request { return g.request("POST", "/scim/v2/Users", g.postBody()) }},
		// the steady state after a sync: a changed attribute, as Entra ID sends it
		{"Patch", 200, func(i int) *http.Request {
			return g.request("PATCH", "/scim/v2/Users/"+g.ids[i%hotPathUsers],
				`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"title","value":"Title `+strconv.Itoa(i)+`"}]}`)
		}},
	}
	for _, s := range scenarios {
		b.Run(s.name, func(b *testing.B) {
			w := &benchWriter{}
			b.ReportAllocs()
			cpu, redisCPU := processCPU(b), redistest.CPU(b, g.redis)
			i := 0
			for b.Loop() {
				i += 7919 // a prime: consecutive requests hit different users
				w.reset()
				g.handler.ServeHTTP(w, s.req(i))
				if w.code != s.status {
					b.Fatalf("%d %s", w.code, w.body.String())
				}
			}
			// CPU time is steadier than wall time on a shared machine.
			b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(redistest.CPU(b, g.redis)-redisCPU)/float64(b.N), "redis-cpu-ns/op")
		})
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	b.Cleanup(hc.CloseIdleConnections)
	for _, s := range scenarios {
		b.Run("loopback/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i += 7919
				req := s.req(i)
				req.URL.Host = strings.TrimPrefix(g.base, "http://")
				resp, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != s.status {
					b.Fatalf("%d", resp.StatusCode)
				}
			}
		})
	}
}
