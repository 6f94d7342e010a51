package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/config"
)

// scimClient is a SCIM client of a gateway started by startGateway, with
// the SCIM token it printed at first start.
type scimClient struct {
	t     *testing.T
	base  string
	token string
}

func newSCIMClient(t *testing.T, cfg config.Config) *scimClient {
	t.Helper()
	cfg.RateLimit.Rate = 0
	base, logs := startGateway(t, cfg)
	m := regexp.MustCompile(`SCIM token:\s+(opst-\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no SCIM token printed:\n%s", logs)
	}
	return &scimClient{t: t, base: base, token: m[1]}
}

// do sends a request and returns the status and the decoded JSON body.
func (c *scimClient) do(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %.80s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// wantRefused asserts a 400 of scimType whose detail names the limit.
func (c *scimClient) wantRefused(method, path, body, scimType, detail string) {
	c.t.Helper()
	code, out := c.do(method, path, body)
	if code != 400 || out["scimType"] != scimType || !strings.Contains(fmt.Sprint(out["detail"]), detail) {
		c.t.Fatalf("%s %.80s: want 400 %s %q, got %d %v", method, path, scimType, detail, code, out)
	}
}

// rssBytes is this process's resident set size.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Skip("no VmRSS")
	return 0
}

func nested(open, close string, depth int, inner string) string {
	return strings.Repeat(open, depth) + inner + strings.Repeat(close, depth)
}

func manyTerms(n int) string {
	return strings.TrimSuffix(strings.Repeat(`userName eq "x" and `, n), " and ")
}

func patchOps(n int, path string) string {
	op := `{"op":"replace","path":"` + path + `","value":"x"}`
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.TrimSuffix(strings.Repeat(op+",", n), ",") + `]}`
}

// TestHostileParsingInputsOverHTTP sends through the real server the
// inputs that crashed the gateway (100,000 nested parentheses: a fatal
// stack overflow in the filter parser) or held it for tens of seconds
// (10,000 filter terms, 10,000 PATCH operations). Each is refused with a
// 400 naming the limit, the process stays up and its memory barely moves.
func TestHostileParsingInputsOverHTTP(t *testing.T) {
	// Default limits: 100,000 levels are refused by the length limit.
	def := newSCIMClient(t, config.Default())
	// With the length limit raised to its maximum, the depth and term
	// checks themselves refuse.
	cfg := config.Default()
	cfg.SCIM.Limits.FilterMaxLength = 1 << 20
	c := newSCIMClient(t, cfg)
	code, user := c.do("POST", "/scim/v2/Users", `{"userName":"hostile@example.com"}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, user)
	}
	id := fmt.Sprint(user["id"])
	debug.FreeOSMemory()
	rssBefore := rssBytes(t) // both gateways up and serving

	def.wantRefused("GET", "/scim/v2/Users?filter="+url.QueryEscape(strings.Repeat("(", 100_000)), "", "invalidFilter", "filter length exceeds 8192 bytes")
	for _, f := range []string{
		strings.Repeat("(", 100_000),
		nested("(", ")", 5000, `userName eq "x"`),
		nested("not (", ")", 100_000, `userName eq "x"`),
		"emails" + strings.Repeat("[", 100_000),
	} {
		c.wantRefused("GET", "/scim/v2/Users?filter="+url.QueryEscape(f), "", "invalidFilter", "filter nesting depth exceeds 32")
	}
	search, _ := json.Marshal(map[string]any{"filter": nested("(", ")", 5000, `userName eq "x"`)})
	c.wantRefused("POST", "/scim/v2/.search", string(search), "invalidFilter", "filter nesting depth exceeds 32")
	c.wantRefused("GET", "/scim/v2/Groups?filter="+url.QueryEscape(manyTerms(10_000)), "", "invalidFilter", "filter has more than 200 terms")
	c.wantRefused("PATCH", "/scim/v2/Users/"+id, patchOps(10_000, "title"), "invalidValue", "the request has 10000 operations; at most 1000")
	c.wantRefused("PATCH", "/scim/v2/Users/"+id, patchOps(1, `emails`+strings.Repeat("[", 1000)), "invalidFilter", "path nesting depth exceeds 32")

	// Still serving, and nothing changed.
	code, got := c.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "hostile@example.com"`), "")
	if code != 200 || got["totalResults"] != float64(1) {
		t.Fatalf("after the hostile requests: %d %v", code, got)
	}
	if r := got["Resources"].([]any)[0].(map[string]any); r["title"] != nil {
		t.Fatalf("a refused PATCH changed the user: %v", r)
	}
	debug.FreeOSMemory()
	grown := rssBytes(t) - rssBefore
	t.Logf("RSS growth over the hostile requests: %d KB", grown>>10)
	if grown > 50<<20 {
		t.Errorf("RSS grew by %d MB", grown>>20)
	}
}
