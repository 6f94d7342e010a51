package idpkeys

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestSourcesOutageLoggedOnce: while the client list cannot be read
// (Redis unreachable) each tick would log; only the first failure is a
// WARN, the repeats are DEBUG, and the recovery is one INFO line.
func TestSourcesOutageLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	failing := true
	c := New(Options{Log: slog.New(slog.NewTextHandler(&buf, nil)), Sources: func(context.Context) ([]Source, error) {
		if failing {
			return nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
		}
		return nil, nil
	}})
	for range 5 {
		c.RefreshDue(context.Background())
	}
	failing = false
	c.RefreshDue(context.Background())
	c.RefreshDue(context.Background())
	out := buf.String()
	if n := strings.Count(out, "level=WARN"); n != 1 || strings.Count(out, "\n") != 2 || !strings.Contains(out, "can be listed again") {
		t.Fatalf("want one WARN and one recovery line:\n%s", out)
	}
}
