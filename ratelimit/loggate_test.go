package ratelimit_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/ratelimit"
	"github.com/scimgate/scimgate/redistest"
)

type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
func (w *lockedWriter) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.b.String() }

// TestUnchargedFailuresLoggedEveryTenSeconds: with Redis failing, every
// failed authentication cannot be charged; that is logged once per 10 s,
// not once per request.
func TestUnchargedFailuresLoggedEveryTenSeconds(t *testing.T) {
	r := redistest.Mini(t)
	var logs lockedWriter
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	g, err := ratelimit.NewFailureGuard(ratelimit.FailureOptions{Redis: r.Client, Prefix: r.Prefix, Max: 3, Window: time.Minute,
		OnRedisError: ratelimit.Allow, Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	r.Mini.SetError("LOADING Redis is loading the dataset in memory")
	e := guardEngine(g)
	for range 5 {
		if w := call(e, "/scim/v2/Users", "bad", "192.0.2.1"); w.Code != http.StatusUnauthorized {
			t.Fatalf("allow: %d, want 401", w.Code)
		}
	}
	if n := strings.Count(logs.String(), "failed authentication not charged"); n != 1 {
		t.Fatalf("%d lines for 5 uncharged failures within 10 s, want 1:\n%s", n, logs.String())
	}
	now = now.Add(10 * time.Second)
	call(e, "/scim/v2/Users", "bad", "192.0.2.1")
	if n := strings.Count(logs.String(), "failed authentication not charged"); n != 2 {
		t.Fatalf("%d lines after 10 s, want 2", n)
	}
}
