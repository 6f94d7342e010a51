package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

type fakePinger struct{ err error }

func (f fakePinger) Ping(context.Context, time.Duration) error { return f.err }

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestReadyzReflectsRedis(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		err  error
		want int
	}{{nil, 200}, {errors.New("down"), 503}} {
		e := New(Options{Log: log, Redis: fakePinger{tc.err}, ReadyTimeout: time.Second})
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		if w.Code != tc.want {
			t.Fatalf("readyz = %d, want %d", w.Code, tc.want)
		}
		if tc.want == 503 && !strings.Contains(w.Body.String(), "reason") {
			t.Fatalf("503 without reason: %s", w.Body)
		}
	}
}

type degraded string

func (d degraded) Error() string  { return string(d) }
func (d degraded) Degraded() bool { return true }

// TestReadyzDegradedStatusIsConfigured: a Redis that answers but refuses
// writes is "degraded" with its reason, 200 by default (reads are served)
// or the configured status.
func TestReadyzDegradedStatusIsConfigured(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct{ configured, want int }{{0, 200}, {200, 200}, {503, 503}} {
		e := New(Options{Log: log, Redis: fakePinger{fmt.Errorf("check: %w", degraded("redis is full"))}, ReadyTimeout: time.Second, DegradedStatus: tc.configured})
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		if w.Code != tc.want || !strings.Contains(w.Body.String(), `"status":"degraded"`) || !strings.Contains(w.Body.String(), "redis is full") {
			t.Fatalf("configured %d: %d %s", tc.configured, w.Code, w.Body)
		}
	}
}

func TestRequestIDEchoedAndLoggedWithoutSecrets(t *testing.T) {
	var buf syncBuf
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	e := New(Options{Log: log, Redis: fakePinger{}, ReadyTimeout: time.Second})
	e.GET("/x", func(c *gin.Context) { c.Status(204) })

	r := httptest.NewRequest("GET", "/x?secret=querysecret", nil)
	r.Header.Set("X-Request-ID", "req-123")
	r.Header.Set("Authorization", "Bearer opst-supersecret")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if got := w.Header().Get(RequestIDHeader); got != "req-123" {
		t.Fatalf("echoed id %q", got)
	}
	out := buf.String()
	for _, want := range []string{`"route":"/x"`, `"status":204`, `"request_id":"req-123"`, `"method":"GET"`, `"latency_ms"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s: %s", want, out)
		}
	}
	for _, bad := range []string{"supersecret", "querysecret", "Authorization"} {
		if strings.Contains(out, bad) {
			t.Errorf("log leaks %q: %s", bad, out)
		}
	}

	// A malformed id is replaced by a generated one.
	r = httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("X-Request-ID", "bad\" id")
	w = httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if got := w.Header().Get(RequestIDHeader); got == "" || strings.Contains(got, "\"") {
		t.Fatalf("bad id echoed: %q", got)
	}
}

func TestRecoveryAnswersSCIM500(t *testing.T) {
	e := New(Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Redis: fakePinger{}})
	e.GET("/boom", func(*gin.Context) { panic("internal detail") })
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("GET", "/boom", nil))
	if w.Code != 500 || strings.Contains(w.Body.String(), "internal detail") || !strings.Contains(w.Body.String(), `"status":"500"`) {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
}

func TestGracefulShutdownLetsInFlightFinish(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		_, _ = w.Write([]byte("done"))
	})
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	runErr := make(chan error, 1)
	go func() {
		runErr <- Run(ctx, Listen{Addr: "127.0.0.1:0", Grace: 5 * time.Second}, h, log, func(a net.Addr) { addrc <- a })
	}()
	addr := <-addrc

	respc := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr.String() + "/")
		if err != nil {
			respc <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		respc <- string(b)
	}()
	<-started
	cancel()
	if got := <-respc; got != "done" {
		t.Fatalf("in-flight request got %q", got)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr.String(), 200*time.Millisecond); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

// TestProbesNotLoggedAtInfo: successful /healthz and /readyz probes are
// debug lines; a failing probe is still logged at INFO.
func TestProbesNotLoggedAtInfo(t *testing.T) {
	var buf syncBuf
	log := slog.New(slog.NewJSONHandler(&buf, nil)) // level INFO
	e := New(Options{Log: log, Redis: fakePinger{}, ReadyTimeout: time.Second})
	for _, p := range []string{"/healthz", "/readyz"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	if out := buf.String(); out != "" {
		t.Fatalf("probes logged at INFO: %s", out)
	}
	down := New(Options{Log: log, Redis: fakePinger{errors.New("down")}, ReadyTimeout: time.Second})
	down.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/readyz", nil))
	if !strings.Contains(buf.String(), `"status":503`) {
		t.Fatalf("failing probe not logged: %s", buf.String())
	}
}

// TestGeneratedRequestIDsAreRandomUUIDs: ids made for requests without
// one are distinct version-4 UUIDs in canonical form.
func TestGeneratedRequestIDsAreRandomUUIDs(t *testing.T) {
	ids := newRequestIDs()
	seen := map[string]bool{}
	for range 10000 {
		id := ids.next()
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != id {
			t.Fatalf("%q: %v (version %d, variant %v)", id, err, u.Version(), u.Variant())
		}
		if seen[id] {
			t.Fatalf("%s repeated", id)
		}
		seen[id] = true
	}
	if newRequestIDs().next() == newRequestIDs().next() {
		t.Fatal("two generators start alike: not seeded")
	}
}

// The request id header is read and written under its canonical key
// directly; the two constants must name the same header.
func TestRequestIDCanonicalKey(t *testing.T) {
	if got := textproto.CanonicalMIMEHeaderKey(RequestIDHeader); got != requestIDCanonical {
		t.Fatalf("canonical %s is %q, want %q", RequestIDHeader, got, requestIDCanonical)
	}
}
