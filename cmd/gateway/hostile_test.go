package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/config"
)

// hostileSeed fixes the mutation stream; a failure names the request.
const hostileSeed = 12

// hostileBudget bounds the sending time of the hostile-input test.
const hostileBudget = 15 * time.Second

// maxFilterNesting is the deepest nesting of mutated filters: far past
// scim.limits.filter_max_depth and filter_max_length, where the parser
// would once overflow its stack and end the process.
const maxFilterNesting = 100000

// filterDepth is mostly around the depth limit, sometimes extreme.
func filterDepth(r *rand.Rand) int {
	if r.IntN(4) == 0 {
		return r.IntN(maxFilterNesting + 1)
	}
	return r.IntN(64)
}

// TestHostileInputThroughRealServer sends a few thousand mutated requests
// (methods, paths, filters, headers, bodies: random bytes, invalid UTF-8,
// huge headers, deep JSON nesting) through the fully wired gateway on a
// loopback port and wants: no 5xx, no panic in the log, RSS bounded.
func TestHostileInputThroughRealServer(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 500
	}
	cfg := config.Default()
	cfg.RateLimit.Rate = 0 // reach the handlers, not the limiter
	cfg.RateLimit.MaxAuthFailures = 1_000_000
	cfg.OAuth.MaxAuthFailures = 1_000_000
	cfg.HTTP.ReadTimeout = config.Duration(5 * time.Second)
	base, logs := startGateway(t, cfg)
	addr := strings.TrimPrefix(base, "http://")
	text := logs.String()
	scim := regexp.MustCompile(`SCIM token:\s+(opst-\S+)`).FindStringSubmatch(text)
	admin := regexp.MustCompile(`admin API token:\s+(opadm-\S+)`).FindStringSubmatch(text)
	if scim == nil || admin == nil {
		t.Fatalf("no first-run tokens in:\n%s", text)
	}
	m := &mutator{scim: scim[1], admin: admin[1]}
	rss0 := vmRSS(t)

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	var mu sync.Mutex
	var failures []string
	counts := map[int]int{}
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range jobs {
				r := rand.New(rand.NewPCG(hostileSeed, uint64(i)))
				desc, status, err := m.send(r, client, addr)
				mu.Lock()
				counts[status]++
				if err != nil || status >= 500 {
					failures = append(failures, fmt.Sprintf("#%d %s: status %d err %v", i, desc, status, err))
				}
				mu.Unlock()
			}
		})
	}
	// At most hostileBudget of sending, so CI stays fast under -race
	// (about 950 requests there on 2 busy cores; all 3,000 in ~5 s without).
	start := time.Now()
	sent := 0
	for sent < n && time.Since(start) < hostileBudget {
		jobs <- sent
		sent++
	}
	close(jobs)
	wg.Wait()
	took := time.Since(start)
	if sent < 300 {
		t.Errorf("only %d requests within %s", sent, hostileBudget)
	}
	n = sent
	rss1 := vmRSS(t)
	t.Logf("%d requests in %s; statuses %v; VmRSS %d MB -> %d MB", n, took.Round(time.Millisecond), counts, rss0>>20, rss1>>20)
	for i, f := range failures {
		if i == 20 {
			t.Errorf("... %d failures in all", len(failures))
			break
		}
		t.Error(f)
	}
	out := logs.String()
	for _, bad := range []string{"panic", "level=ERROR", "fatal error"} {
		if i := strings.Index(out, bad); i >= 0 {
			t.Errorf("log has %q: %.400s", bad, out[max(0, i-200):])
		}
	}
	// Bound: the in-process gateway, its embedded Redis and the test's
	// own buffers; measured growth is a few tens of MB (see the log line).
	if grow := rss1 - rss0; grow > 300<<20 {
		t.Errorf("RSS grew %d MB", grow>>20)
	}
}

// vmRSS reads this process's resident set size from /proc.
func vmRSS(t *testing.T) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

type mutator struct{ scim, admin string }

var (
	hostileMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "BREW", "G3T", "TRACE"}
	hostilePaths   = []string{
		"/scim/v2/Users", "/scim/v2/Groups", "/scim_v2/Users", "/scim/v2/Users/%s", "/scim/v2/Groups/%s",
		"/scim/v2/Bulk", "/scim/v2/.search", "/scim/v2/Users/.search", "/scim/v2/ServiceProviderConfig",
		"/scim/v2/Schemas/%s", "/scim/v2/ResourceTypes/%s", "/admin/api/v1/clients", "/admin/api/v1/clients/%s",
		"/admin/api/v1/clients/%s/tokens", "/admin/api/v1/audit", "/oauth/token", "/oauth/introspect",
		"/oauth/revoke", "/admin", "/admin/login", "/metrics", "/healthz", "/%s",
	}
	filterAttrs = []string{"userName", "displayName", "emails.value", "emails[type eq \"work\"].value", "meta.lastModified", "members.value", "name.givenName", "active", "id", "urn:ietf:params:scim:schemas:core:2.0:User:userName", "x"}
	filterOps   = []string{"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "EQ", "zz"}
)

// send builds one mutated request from r, sends it and returns its
// description, status and transport error (a reset or timeout from the
// server on a request it should answer).
func (m *mutator) send(r *rand.Rand, client *http.Client, addr string) (string, int, error) {
	if r.IntN(10) == 0 {
		return m.sendRaw(r, addr)
	}
	method := hostileMethods[r.IntN(len(hostileMethods))]
	if r.IntN(10) < 8 {
		method = hostileMethods[r.IntN(2)] // mostly GET and POST, which most routes take
	}
	path := hostilePaths[r.IntN(len(hostilePaths))]
	if strings.Contains(path, "%s") {
		path = fmt.Sprintf(path, url.PathEscape(randString(r, r.IntN(80))))
	}
	q := url.Values{}
	if r.IntN(2) == 0 {
		q.Set("filter", randFilter(r))
	}
	for _, k := range []string{"sortBy", "attributes", "excludedAttributes", "startIndex", "count", "sortOrder", "cursor"} {
		if r.IntN(6) == 0 {
			q.Set(k, randString(r, r.IntN(60)))
		}
	}
	target := "http://" + addr + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	body := randBody(r)
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		return method + " " + path, 0, nil // the client itself refuses it
	}
	switch r.IntN(5) {
	case 0, 1:
		req.Header.Set("Authorization", "Bearer "+m.scim)
	case 2:
		req.Header.Set("Authorization", "Bearer "+m.admin)
	case 3:
		req.Header.Set("Authorization", randString(r, r.IntN(300)))
	}
	for range r.IntN(4) {
		req.Header.Set(randToken(r), randHeaderValue(r))
	}
	if r.IntN(40) == 0 {
		req.Header.Set("X-Huge", strings.Repeat("h", 64<<10+r.IntN(1<<20))) // over MaxHeaderBytes: 431
	}
	for _, h := range []string{"Content-Type", "If-Match", "If-None-Match", "X-Request-ID", "X-Forwarded-For", "Accept"} {
		if r.IntN(4) == 0 {
			req.Header.Set(h, randHeaderValue(r))
		}
	}
	if r.IntN(2) == 0 {
		req.Header.Set("Content-Type", []string{"application/scim+json", "application/json", "application/x-www-form-urlencoded"}[r.IntN(3)])
	}
	desc := fmt.Sprintf("%s %.200s (body %d bytes)", method, target, len(body))
	resp, err := client.Do(req)
	if err != nil {
		if strings.Contains(err.Error(), "invalid header") || strings.Contains(err.Error(), "invalid method") {
			return desc, 0, nil
		}
		return desc, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return desc, resp.StatusCode, nil
}

// sendRaw writes bytes net/http's client would not: bogus request lines,
// invalid header bytes, broken chunking; the server may close without
// answering (that is how net/http refuses some), but must not 5xx.
func (m *mutator) sendRaw(r *rand.Rand, addr string) (string, int, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return "raw", 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	switch r.IntN(4) {
	case 0:
		b.WriteString(randString(r, r.IntN(200)) + "\r\n\r\n")
	case 1:
		fmt.Fprintf(&b, "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nTransfer-Encoding: chunked\r\nContent-Type: application/scim+json\r\n\r\n%x\r\n%s\r\n%s", m.scim, r.IntN(1<<20), randBody(r), randString(r, 10))
	case 2:
		fmt.Fprintf(&b, "GET /scim/v2/Users/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nX-Bad: %s\r\n\r\n", randString(r, 20), m.scim, randString(r, 40))
	default:
		fmt.Fprintf(&b, "%s /scim/v2/Users HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nAuthorization: Bearer %s\r\n\r\n%s", hostileMethods[r.IntN(len(hostileMethods))], r.IntN(100), m.scim, randBody(r))
	}
	desc := fmt.Sprintf("raw %.200q", b.String())
	_, _ = io.WriteString(conn, b.String())
	_ = conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return desc, 0, nil // closed without an answer
	}
	resp.Body.Close()
	return desc, resp.StatusCode, nil
}

func randString(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		switch r.IntN(4) {
		case 0:
			b[i] = byte(r.IntN(256)) // invalid UTF-8 and control bytes
		default:
			b[i] = byte(' ' + r.IntN(95))
		}
	}
	return string(b)
}

func randToken(r *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"
	b := make([]byte, 1+r.IntN(20))
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return "X-" + string(b)
}

// randHeaderValue is a value the client accepts: visible ASCII and obs-text
// (bytes >= 0x80, invalid UTF-8).
func randHeaderValue(r *rand.Rand) string {
	b := make([]byte, r.IntN(200))
	for i := range b {
		if r.IntN(5) == 0 {
			b[i] = byte(0x80 + r.IntN(128))
		} else {
			b[i] = byte(' ' + r.IntN(95))
		}
	}
	return string(b)
}

func randFilter(r *rand.Rand) string {
	switch r.IntN(6) {
	case 0:
		return randString(r, r.IntN(300))
	case 1:
		d := filterDepth(r)
		return strings.Repeat("(", d) + `userName eq "a"` + strings.Repeat(")", d)
	case 2:
		d := filterDepth(r)
		return strings.Repeat("not (", d) + `active pr` + strings.Repeat(")", d)
	}
	var b strings.Builder
	for i := range 1 + r.IntN(30) {
		if i > 0 {
			b.WriteString([]string{" and ", " or ", " AND ", " xor "}[r.IntN(4)])
		}
		op := filterOps[r.IntN(len(filterOps))]
		fmt.Fprintf(&b, "%s %s", filterAttrs[r.IntN(len(filterAttrs))], op)
		if op != "pr" {
			fmt.Fprintf(&b, " %s", []string{`"x"`, `"` + randString(r, 10) + `"`, "true", "null", "1e999", "-0", `"2020-01-01T00:00:00Z"`, randString(r, 5)}[r.IntN(8)])
		}
	}
	return b.String()
}

func randBody(r *rand.Rand) string {
	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u` + strconv.Itoa(r.IntN(1e6)) + `","emails":[{"value":"a@b.c","type":"work","primary":true}],"name":{"givenName":"A"},"active":true}`
	patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"x"},{"op":"add","path":"members","value":[{"value":"abc"}]}]}`
	bulk := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"q","data":` + user + `},{"method":"PATCH","path":"/Groups/bulkId:q","data":` + patch + `}]}`
	switch r.IntN(8) {
	case 0:
		return ""
	case 1:
		return randString(r, r.IntN(4000))
	case 2:
		d := 1 + r.IntN(200000)
		return strings.Repeat(`{"a":`, d/5) + strings.Repeat("[", d) // deep nesting, unterminated
	case 3:
		d := 1 + r.IntN(20000)
		return strings.Repeat("[", d) + strings.Repeat("]", d)
	}
	doc := []byte([]string{user, patch, bulk, `{"userName":"\ud800\udfff\u0000` + randString(r, 20) + `"}`}[r.IntN(4)])
	for range r.IntN(6) { // byte-level mutations of a valid document
		if len(doc) == 0 {
			break
		}
		i := r.IntN(len(doc))
		switch r.IntN(3) {
		case 0:
			doc[i] = byte(r.IntN(256))
		case 1:
			doc = append(doc[:i], doc[i+1:]...)
		default:
			doc = append(doc[:i], append([]byte(randString(r, 1+r.IntN(8))), doc[i:]...)...)
		}
	}
	return string(doc)
}
