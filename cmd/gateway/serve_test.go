package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/redistest"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func noEnv(string) (string, bool) { return "", false }

func freePort(t *testing.T) int {
	t.Helper()
	return redistest.FreePort(t)
}

// startGateway runs serve in the background and returns its base URL.
func startGateway(t testing.TB, cfg config.Config) (string, *lockedBuf) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	logs := &lockedBuf{}
	return serveInBackground(t, cfg, cliIO{stdout: logs, stderr: logs, env: noEnv}), logs
}

// serveInBackground runs serve with cio until the test ends and returns
// its base URL.
func serveInBackground(t testing.TB, cfg config.Config, cio cliIO) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, cio, func(a net.Addr) { addrc <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-addrc:
		return "http://" + a.String()
	case err := <-done:
		done <- nil // the cleanup waits on done; serve has already ended
		t.Fatalf("serve ended early: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("gateway did not listen within 15s")
	}
	return ""
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestEmbeddedGatewayIsHealthyAndReady(t *testing.T) {
	base, logs := startGateway(t, config.Default())
	if got := status(t, base+"/healthz"); got != 200 {
		t.Fatalf("healthz %d", got)
	}
	if got := status(t, base+"/readyz"); got != 200 {
		t.Fatalf("readyz %d", got)
	}
	if !strings.Contains(logs.String(), "data is lost") {
		t.Fatalf("no embedded-redis warning in logs: %s", logs)
	}
}

// TestReadyzRecoversWhenRedisStarts is the foundation's "Done means": a
// gateway pointed at a closed port is up but not ready, and becomes ready
// by itself once a redis-server starts there.
func TestReadyzRecoversWhenRedisStarts(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server not installed; CI must run this test")
		}
		t.Skip("redis-server not installed")
	}
	port := freePort(t)
	cfg := config.Default()
	cfg.Redis.URL = "redis://127.0.0.1:" + strconv.Itoa(port)
	cfg.Redis.ReadyTimeout = config.Duration(300 * time.Millisecond)
	base, _ := startGateway(t, cfg)
	if got := status(t, base+"/healthz"); got != 200 {
		t.Fatalf("healthz %d", got)
	}
	if got := status(t, base+"/readyz"); got != 503 {
		t.Fatalf("readyz with redis down = %d, want 503", got)
	}
	srv := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for status(t, base+"/readyz") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("readyz did not recover within 10s of redis starting")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestSCIMIsClosedWithoutAuthenticators(t *testing.T) {
	base, _ := startGateway(t, config.Default())
	for _, p := range []string{"/scim/v2/Users", "/scim_v2/Users", "/scim/v2/ServiceProviderConfig"} {
		req, _ := http.NewRequest("GET", base+p, nil)
		req.Header.Set("Authorization", "Bearer anything")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Fatalf("%s: %d %q", p, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

func TestConfigCheckExitsUsageNamingKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(p, []byte("listen: 127.0.0.1:1\nredis:\n  bogus_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"config", "check", "--config", p}, &out, &out, noEnv)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "redis.bogus_key") {
		t.Fatalf("got %v", err)
	}
	// serve refuses the same file the same way, before touching Redis.
	err = run(context.Background(), []string{"serve", "--config", p}, &out, &out, noEnv)
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "redis.bogus_key") {
		t.Fatalf("serve: got %v", err)
	}
	if err := run(context.Background(), []string{"serve", "--bogus"}, &out, &out, noEnv); !errors.As(err, &u) {
		t.Fatalf("bad flag: %v", err)
	}
}

// TestBinaryExitStatus builds the real binary and checks the exit status 2.
func TestBinaryExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "gateway")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	p := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(p, []byte("unknownkey: 1\n"), 0o600)
	out, err := exec.Command(bin, "config", "check", "--config", p).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, out %s", err, out)
	}
	if lines := strings.Count(strings.TrimSpace(string(out)), "\n"); lines != 0 || !strings.Contains(string(out), "unknownkey") {
		t.Fatalf("want one line naming the key, got %q", out)
	}
}

// TestUnmatchedRoutesAnswerSCIMErrors: under the SCIM prefixes an unknown
// path is a SCIM 404 and a wrong method a SCIM 405 with Allow (RFC 7644
// §3.12 error schema).
func TestUnmatchedRoutesAnswerSCIMErrors(t *testing.T) {
	base, logs := startGateway(t, config.Default())
	m := regexp.MustCompile(`SCIM token:\s+(opst-\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no SCIM token printed:\n%s", logs)
	}
	do := func(method, path string) (*http.Response, string) {
		req, _ := http.NewRequest(method, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+m[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := do("GET", "/scim/v2/Nope")
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/scim+json" || !strings.Contains(body, `"status":"404"`) {
		t.Fatalf("unknown SCIM path: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = do("DELETE", "/scim_v2/Users")
	if resp.StatusCode != 405 || !strings.Contains(body, `"status":"405"`) || !strings.Contains(resp.Header.Get("Allow"), "GET") {
		t.Fatalf("wrong method: %d %q %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
	if resp, _ = do("GET", "/elsewhere"); resp.StatusCode != 404 {
		t.Fatalf("unknown path: %d", resp.StatusCode)
	}
}
