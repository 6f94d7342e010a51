package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/config"
)

// scimToken is the SCIM token an embedded gateway prints at first run.
func scimToken(t *testing.T, logs *lockedBuf) string {
	t.Helper()
	m := regexp.MustCompile(`SCIM token:\s+(opst-\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no SCIM token printed:\n%s", logs)
	}
	return m[1]
}

// TestOversizedSCIMBodyGetsReadable413 sends 2 MiB to POST /Users the way
// urllib does (whole body, no Expect: 100-continue, then read) and wants
// the SCIM 413 error, status line and body (RFC 7644 §3.12).
func TestOversizedSCIMBodyGetsReadable413(t *testing.T) {
	base, logs := startGateway(t, config.Default())
	token := scimToken(t, logs)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + strings.Repeat("a", 2<<20) + `"}`
	fmt.Fprintf(conn, "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\nContent-Length: %d\r\n\r\n", token, len(body))
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatalf("writing the body: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(b), `"status":"413"`) || !strings.Contains(string(b), "urn:ietf:params:scim:api:messages:2.0:Error") {
		t.Fatalf("got %d %s", resp.StatusCode, b)
	}
}

// TestPythonUrllibSees413 is the reported case with the real client.
func TestPythonUrllibSees413(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 not installed; CI must run this test")
		}
		t.Skip("python3 not installed")
	}
	base, logs := startGateway(t, config.Default())
	script := `
import sys, urllib.request, urllib.error
body = b'{"userName":"' + b'a' * (2 << 20) + b'"}'
req = urllib.request.Request(sys.argv[1] + "/scim/v2/Users", data=body, method="POST",
    headers={"Authorization": "Bearer " + sys.argv[2], "Content-Type": "application/scim+json"})
try:
    urllib.request.urlopen(req, timeout=10)
    print("no error")
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
`
	out, err := exec.Command(py, "-c", script, base, scimToken(t, logs)).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "413 ") || !strings.Contains(string(out), `"status":"413"`) {
		t.Fatalf("urllib: %v\n%s", err, out)
	}
}

// TestTrickledBodyWithBadTokenIsCut: an unauthenticated client trickling a
// body holds its connection no longer than http.read_timeout.
func TestTrickledBodyWithBadTokenIsCut(t *testing.T) {
	cfg := config.Default()
	cfg.HTTP.ReadHeaderTimeout = config.Duration(300 * time.Millisecond)
	cfg.HTTP.ReadTimeout = config.Duration(700 * time.Millisecond)
	base, _ := startGateway(t, cfg)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer opst-invalid\r\nContent-Type: application/scim+json\r\nContent-Length: 100000\r\n\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	all, err := io.ReadAll(conn)
	took := time.Since(start)
	if err != nil || !strings.HasPrefix(string(all), "HTTP/1.1 401") {
		t.Fatalf("after %s: %v %q", took, err, all)
	}
	if took > 700*time.Millisecond+2*time.Second {
		t.Fatalf("connection held %s with read_timeout 700ms", took)
	}
}

// TestOnlyTheConfiguredForwardedHeaderIsTrusted: from a trusted proxy the
// client address comes from trusted_proxy_header alone; X-Real-IP (which
// gin believes by default) is ignored unless it is the configured one.
func TestOnlyTheConfiguredForwardedHeaderIsTrusted(t *testing.T) {
	for _, tc := range []struct {
		header, wantFrom string
		sent             map[string]string
	}{
		{"X-Forwarded-For", "203.0.113.7", map[string]string{"X-Real-IP": "198.51.100.9", "X-Forwarded-For": "203.0.113.7"}},
		{"X-Forwarded-For", "127.0.0.1", map[string]string{"X-Real-IP": "198.51.100.9"}},
		{"X-Real-IP", "198.51.100.9", map[string]string{"X-Real-IP": "198.51.100.9", "X-Forwarded-For": "203.0.113.7"}},
	} {
		cfg := config.Default()
		cfg.TrustedProxies = "127.0.0.1/32"
		cfg.TrustedProxyHeader = tc.header
		base, logs := startGateway(t, cfg)
		// An unmatched path: logged at INFO (health probes are at DEBUG).
		req, _ := http.NewRequest("GET", base+"/no-such-path", nil)
		for k, v := range tc.sent {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		line := ""
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "route=unmatched") {
				line = l
			}
		}
		if !strings.Contains(line, "remote_ip="+tc.wantFrom) {
			t.Fatalf("trusted_proxy_header %s: access log %q, want remote_ip=%s", tc.header, line, tc.wantFrom)
		}
	}
}

// TestAbortedBodyIsAClientError: a client that announces a body and hangs
// up halfway is answered (as far as anyone listens) and logged as a 400,
// not as a 500 at ERROR, on the SCIM and the admin API.
func TestAbortedBodyIsAClientError(t *testing.T) {
	base, logs := startGateway(t, config.Default())
	admin := regexp.MustCompile(`admin API token:\s+(\S+)`).FindStringSubmatch(logs.String())
	if admin == nil {
		t.Fatalf("no admin token printed:\n%s", logs)
	}
	for _, tc := range []struct{ path, token string }{{"/scim/v2/Users", scimToken(t, logs)}, {"/admin/api/v1/clients", admin[1]}} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"userName\":", tc.path, tc.token)
		_ = conn.(*net.TCPConn).CloseWrite()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		conn.Close()
		if err != nil || resp.StatusCode != 400 {
			t.Fatalf("%s: %v %v", tc.path, resp, err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for strings.Count(logs.String(), "status=400") < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := logs.String()
	if strings.Count(out, "status=400") < 2 || strings.Contains(out, "level=ERROR") || strings.Contains(out, "status=500") {
		t.Fatalf("want two 400s and no ERROR:\n%s", out)
	}
}
