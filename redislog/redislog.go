// Package redislog routes the Redis client library's own log lines
// through log/slog. go-redis logs dial and pool failures through one
// package-wide logger (redis.SetLogger), one line per failed attempt to
// get a connection, so an unreachable Redis printed a line per request to
// stderr, outside the gateway's log format. Logger writes them at a set
// level, at most one line per message kind per interval, and reports how
// many were held back with the next one.
package redislog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// maxKinds bounds the message kinds remembered (go-redis has a few dozen
// format strings; past the bound the oldest memory is dropped).
const maxKinds = 256

// Logger implements go-redis's internal.Logging (pass it to
// redis.SetLogger).
type Logger struct {
	log   *slog.Logger
	level slog.Level
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	kinds map[string]*kind
}

type kind struct {
	last time.Time
	held int
}

// New returns a Logger writing to log at level, at most one line per
// message kind (the library's format string) per every; every <= 0 writes
// every line. now is the clock (time.Now when nil).
func New(log *slog.Logger, level slog.Level, every time.Duration, now func() time.Time) *Logger {
	if now == nil {
		now = time.Now
	}
	return &Logger{log: log, level: level, every: every, now: now, kinds: map[string]*kind{}}
}

// Printf logs one line of the library, unless a line of its kind was
// logged less than the interval ago (then it is only counted).
func (l *Logger) Printf(ctx context.Context, format string, v ...any) {
	if !l.log.Enabled(ctx, l.level) {
		return
	}
	held := 0
	if l.every > 0 {
		t := l.now()
		l.mu.Lock()
		k := l.kinds[format]
		if k != nil && t.Sub(k.last) < l.every {
			k.held++
			l.mu.Unlock()
			return
		}
		if k == nil {
			if len(l.kinds) >= maxKinds {
				clear(l.kinds)
			}
			k = &kind{}
			l.kinds[format] = k
		}
		held, k.last, k.held = k.held, t, 0
		l.mu.Unlock()
	}
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	if !strings.HasPrefix(msg, "redis") {
		msg = "redis: " + msg
	}
	attrs := []slog.Attr{slog.String("source", "go-redis")}
	if held > 0 {
		attrs = append(attrs, slog.Int("repeats_not_logged", held), slog.Duration("interval", l.every))
	}
	l.log.LogAttrs(ctx, l.level, msg, attrs...)
}
