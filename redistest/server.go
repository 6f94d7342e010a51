package redistest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server (or redis-sentinel) process a fault test starts
// itself, on a free loopback port in its own directory, so it may stall
// (Stop), resume (Cont), kill (Kill) and restart it (Start) at will.
type Server struct {
	t    testing.TB
	bin  string
	Port int
	Dir  string
	args []string
	cmd  *exec.Cmd
}

// Binary returns the path of the named Redis binary (redis-server,
// redis-sentinel, redis-cli), or skips the test when it is not installed
// (fails it under CI=true).
func Binary(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed; CI must run the fault tests", name)
		}
		t.Skipf("%s not installed", name)
	}
	return bin
}

// StartServer starts redis-server with extra arguments (e.g.
// "--maxmemory", "2mb") and waits until it answers PING. It is killed
// when the test ends.
func StartServer(t testing.TB, extra ...string) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t, "redis-server"), Port: FreePort(t), Dir: t.TempDir()}
	s.args = append([]string{"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--dir", s.Dir,
		"--save", "", "--appendonly", "no", "--logfile", "redis.log"}, extra...)
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// StartSentinelProcess starts redis-sentinel with the configuration lines
// conf (port, bind, dir and logfile are added) and waits until it answers
// PING. It is killed when the test ends.
func StartSentinelProcess(t testing.TB, conf ...string) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t, "redis-sentinel"), Port: FreePort(t), Dir: t.TempDir()}
	lines := append([]string{"port " + strconv.Itoa(s.Port), "bind 127.0.0.1", "dir " + s.Dir, "logfile redis.log"}, conf...)
	path := filepath.Join(s.Dir, "sentinel.conf")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.args = []string{path}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// FreePort returns a loopback TCP port nobody listens on.
func FreePort(t testing.TB) int {
	t.Helper()
	// A port the kernel hands out for ":0" comes from the ephemeral range,
	// which every outgoing connection of every parallel test also draws
	// from: between this check and the caller's bind, one of them may
	// take it ("address already in use", a flaky CI failure). Ports below
	// the usual ephemeral range (Linux: 32768-60999) are picked at random
	// instead, and ":0" is the fallback.
	for range 50 {
		port := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			ln.Close()
			return port
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Start (re)starts the process with its arguments and waits for it to
// answer PING (LOADING counts as not yet).
func (s *Server) Start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Dir = s.Dir
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", filepath.Base(s.bin), err)
	}
	s.WaitReady(10 * time.Second)
}

// WaitReady waits until the server answers PING.
func (s *Server) WaitReady(within time.Duration) {
	s.t.Helper()
	c := redis.NewClient(&redis.Options{Protocol: 2, Addr: s.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis on %s did not answer within %s: %v (log: %s)", s.Addr(), within, err, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Log returns the server's log file.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	return string(b)
}

func (s *Server) signal(sig syscall.Signal) {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// Stop stalls the process (SIGSTOP): connections stay open, nothing is
// answered.
func (s *Server) Stop() { s.signal(syscall.SIGSTOP) }

// Cont resumes a stalled process (SIGCONT).
func (s *Server) Cont() { s.signal(syscall.SIGCONT) }

// Kill kills the process (SIGKILL, after SIGCONT in case it was stalled)
// and reaps it. Killing a dead server does nothing.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Client returns a plain client of the server, closed when the test ends.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Protocol: 2, Addr: s.Addr()})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Fill writes values into the server until it refuses with OOM (start it
// with --maxmemory and --maxmemory-policy noeviction): big values first,
// then small ones, since a refused big value's query buffer is freed
// afterwards and leaves room for small writes.
func (s *Server) Fill() {
	s.t.Helper()
	// The client stays open until the test ends: closing it would free its
	// buffers' memory and make room again.
	c := s.Client()
	prefix := time.Now().UnixNano()
	i := 0
	for _, size := range []int{64 << 10, 1 << 10, 64} {
		val := strings.Repeat("x", size)
		for ; ; i++ {
			err := c.Set(context.Background(), fmt.Sprint("fill:", prefix, ":", i), val, 0).Err()
			if err == nil {
				if i > 100000 {
					s.t.Fatal("redis never filled up")
				}
				continue
			}
			if !strings.HasPrefix(err.Error(), "OOM") {
				s.t.Fatalf("filling %s: %v", s, err)
			}
			break
		}
	}
}

// String names the server for messages.
func (s *Server) String() string { return fmt.Sprintf("redis-server %s", s.Addr()) }
