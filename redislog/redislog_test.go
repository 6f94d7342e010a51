package redislog_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/redislog"
)

func TestOneLinePerKindPerInterval(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := redislog.New(slog.New(slog.NewTextHandler(&buf, nil)), slog.LevelWarn, 30*time.Second, func() time.Time { return now })
	ctx := context.Background()
	dial := "redis: connection pool: failed to dial after %d attempts: %v"
	for range 5 {
		l.Printf(ctx, dial, 5, "dial tcp 127.0.0.1:1: connect: connection refused")
	}
	l.Printf(ctx, "sentinel: new master=%q addr=%q", "m", "10.0.0.1:6379")
	now = now.Add(29 * time.Second)
	l.Printf(ctx, dial, 5, "refused")
	now = now.Add(time.Second)
	l.Printf(ctx, dial, 5, "refused")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3 (first dial, sentinel, dial after 30 s):\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "failed to dial after 5 attempts") ||
		strings.Contains(lines[0], "repeats_not_logged") || !strings.Contains(lines[0], "source=go-redis") {
		t.Errorf("first line: %s", lines[0])
	}
	if !strings.Contains(lines[1], `msg="redis: sentinel: new master=\"m\"`) {
		t.Errorf("sentinel line: %s", lines[1])
	}
	if !strings.Contains(lines[2], "repeats_not_logged=5") || !strings.Contains(lines[2], "interval=30s") {
		t.Errorf("line after the interval does not count the 5 held back: %s", lines[2])
	}
}

func TestEveryLineWithoutInterval(t *testing.T) {
	var buf bytes.Buffer
	l := redislog.New(slog.New(slog.NewTextHandler(&buf, nil)), slog.LevelWarn, 0, nil)
	for range 3 {
		l.Printf(context.Background(), "x %d", 1)
	}
	if n := strings.Count(buf.String(), "\n"); n != 3 {
		t.Fatalf("%d lines, want 3", n)
	}
	// Below the handler's level nothing is written.
	buf.Reset()
	l = redislog.New(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError})), slog.LevelWarn, 0, nil)
	l.Printf(context.Background(), "x")
	if buf.Len() != 0 {
		t.Fatalf("logged below the level: %s", buf.String())
	}
}

func TestConcurrentPrintf(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) })
	l := redislog.New(slog.New(slog.NewTextHandler(w, nil)), slog.LevelWarn, time.Hour, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				l.Printf(context.Background(), "redis: dial %v", "refused")
			}
		})
	}
	wg.Wait()
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Fatalf("%d lines from 800 identical messages, want 1", n)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
