package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/server/bodyerr"
)

// startRun serves a pipeline built by New (plus routes) through Run on a
// loopback port with the given limits, and returns its address.
func startRun(t *testing.T, l Listen, drain int64, routes func(*gin.Engine)) string {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	e := New(Options{Log: log, Redis: fakePinger{}, ReadyTimeout: time.Second, DrainBytes: drain})
	routes(e)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	l.Addr, l.Grace = "127.0.0.1:0", 2*time.Second
	go func() { done <- Run(ctx, l, e, log, func(a net.Addr) { addrc <- a }) }()
	t.Cleanup(func() { cancel(); <-done })
	return (<-addrc).String()
}

// limitedRoutes mimics the SCIM body reader: a body announced over 1 KiB is
// refused before it is read; otherwise it is read under a limit and a read
// failure is answered with its bodyerr status.
func limitedRoutes(e *gin.Engine) {
	e.POST("/limited", func(c *gin.Context) {
		if c.Request.ContentLength > 1024 {
			c.String(http.StatusRequestEntityTooLarge, "too large")
			return
		}
		if _, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 1024)); err != nil {
			be := bodyerr.Classify(err).(*bodyerr.Error)
			c.String(be.Status, be.Detail)
			return
		}
		c.String(http.StatusOK, "read")
	})
	e.POST("/refuse", func(c *gin.Context) { c.String(http.StatusUnauthorized, "no") })
}

// rawPost writes a POST with an announced Content-Length, then body in one
// go (no Expect: 100-continue, like Python's urllib), and only then reads
// the status line.
func rawPost(t *testing.T, addr, path string, body []byte) (string, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A small send buffer, as on a real network path: on loopback the
	// kernel would otherwise take megabytes before the server closes.
	_ = conn.(*net.TCPConn).SetWriteBuffer(32 << 10)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, len(body))
	if _, err := conn.Write(body); err != nil {
		return "", fmt.Errorf("writing the body: %w", err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line), err
}

// TestOversizedBodyGetsReadableRefusal: a 2 MiB body sent without waiting
// for the answer gets the 413 (and a route that refuses without reading
// its 401), not a reset. The control: with draining off (net/http reads
// only 256 KB, then closes) the same client is reset (10 of 10 runs with a
// 32 KiB send buffer), and with a 16 MiB drain cap the 413 arrives.
func TestOversizedBodyGetsReadableRefusal(t *testing.T) {
	limits := Listen{ReadHeaderTimeout: time.Second, ReadTimeout: 5 * time.Second}
	addr := startRun(t, limits, 4<<20, limitedRoutes)
	body := []byte(strings.Repeat("x", 2<<20))
	for path, want := range map[string]string{"/limited": "HTTP/1.1 413 Request Entity Too Large", "/refuse": "HTTP/1.1 401 Unauthorized"} {
		if line, err := rawPost(t, addr, path, body); err != nil || line != want {
			t.Errorf("%s: status line %q, err %v; want %s", path, line, err, want)
		}
	}
	big := []byte(strings.Repeat("x", 2<<20))
	if line, err := rawPost(t, startRun(t, limits, 16<<20, limitedRoutes), "/limited", big); err != nil || !strings.HasPrefix(line, "HTTP/1.1 413") {
		t.Errorf("2 MiB under a 16 MiB drain cap: %q, %v", line, err)
	}
	if line, err := rawPost(t, startRun(t, limits, 0, limitedRoutes), "/limited", big); err == nil && strings.HasPrefix(line, "HTTP/1.1 413") {
		t.Errorf("2 MiB with draining off read %q: the control no longer shows the reset the drain prevents", line)
	}
}

// TestTrickledBodyIsCutAtReadTimeout: a body sent one byte every 50ms is
// cut at http.read_timeout, whether the handler reads it (408) or refuses
// without reading (the drain stops at the same deadline), and the
// connection is closed.
func TestTrickledBodyIsCutAtReadTimeout(t *testing.T) {
	const readTimeout = 600 * time.Millisecond
	addr := startRun(t, Listen{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: readTimeout}, 4<<20, limitedRoutes)
	for path, want := range map[string]string{"/limited": "HTTP/1.1 408", "/refuse": "HTTP/1.1 401"} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", path)
		// The trickle stops once the answer has started to arrive: a byte
		// written after the server's close draws a reset, which may discard
		// the answer still unread in the client's receive buffer.
		var answered atomic.Bool
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
					if answered.Load() {
						return
					}
					if _, err := conn.Write([]byte("x")); err != nil {
						return
					}
				}
			}
		}()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		var all []byte
		buf := make([]byte, 4096)
		for { // to the server's close
			var n int
			n, err = conn.Read(buf)
			if n > 0 {
				answered.Store(true)
				all = append(all, buf[:n]...)
			}
			if err != nil {
				break
			}
		}
		took := time.Since(start)
		close(stop)
		conn.Close()
		if errors.Is(err, io.EOF) || (errors.Is(err, syscall.ECONNRESET) && len(all) > 0) {
			err = nil // closed by the server (a reset after the answer is a close too)
		}
		if err != nil {
			t.Fatalf("%s: reading: %v (after %s)", path, err, took)
		}
		if !strings.HasPrefix(string(all), want) {
			t.Errorf("%s: got %q, want %s", path, all, want)
		}
		if took < readTimeout-100*time.Millisecond || took > readTimeout+2*time.Second {
			t.Errorf("%s: connection held %s with read_timeout %s", path, took, readTimeout)
		}
	}
}

// TestSlowHandlerOutlivesReadTimeout: the read timeout bounds reading the
// request, not the handler: a handler that runs past it after reading its
// body keeps its context and its answer reaches the client.
func TestSlowHandlerOutlivesReadTimeout(t *testing.T) {
	addr := startRun(t, Listen{ReadHeaderTimeout: 100 * time.Millisecond, ReadTimeout: 200 * time.Millisecond}, 4<<20, func(e *gin.Engine) {
		e.POST("/slow", func(c *gin.Context) {
			_, _ = io.ReadAll(c.Request.Body)
			select {
			case <-time.After(500 * time.Millisecond):
				c.String(http.StatusOK, "done")
			case <-c.Request.Context().Done():
				c.String(http.StatusServiceUnavailable, "cancelled")
			}
		})
	})
	resp, err := http.Post("http://"+addr+"/slow", "text/plain", strings.NewReader("abc"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "done" {
		t.Fatalf("got %d %q", resp.StatusCode, b)
	}
}
