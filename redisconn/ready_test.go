package redisconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/redistest"
)

func open(t *testing.T, url string) *Conn {
	t.Helper()
	c, err := Open(url, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestPingIsBoundedWhenRedisStalls: a SIGSTOPped redis-server accepts
// connections but answers nothing; readiness must still answer within its
// timeout plus a little (it took the 5 s read timeout before).
func TestPingIsBoundedWhenRedisStalls(t *testing.T) {
	srv := redistest.StartServer(t)
	c := open(t, srv.URL())
	if err := c.Ping(context.Background(), time.Second); err != nil {
		t.Fatalf("ready redis: %v", err)
	}
	srv.Stop()
	defer srv.Cont()
	for range 3 {
		start := time.Now()
		err := c.Ping(context.Background(), 300*time.Millisecond)
		if took := time.Since(start); took > 450*time.Millisecond {
			t.Fatalf("ping of a stalled redis took %s, want within 300ms + a little", took)
		}
		if err == nil {
			t.Fatal("stalled redis reported ready")
		}
	}
	srv.Cont()
	if err := c.Ping(context.Background(), 2*time.Second); err != nil {
		t.Fatalf("resumed redis: %v", err)
	}
}

// TestPingReportsReplicaAndFullAsDegraded: a replica (the old master after
// a failover) and a full noeviction master answer but refuse writes.
func TestPingReportsReplicaAndFullAsDegraded(t *testing.T) {
	master := redistest.StartServer(t, "--maxmemory", "4mb", "--maxmemory-policy", "noeviction")
	replica := redistest.StartServer(t, "--replicaof", "127.0.0.1", fmt.Sprint(master.Port))
	var de *DegradedError
	if err := open(t, replica.URL()).Ping(context.Background(), time.Second); !errors.As(err, &de) || !strings.Contains(de.Reason, "replica") {
		t.Fatalf("replica: %v", err)
	}
	c := open(t, master.URL())
	if err := c.Ping(context.Background(), time.Second); err != nil {
		t.Fatalf("empty master: %v", err)
	}
	master.Fill()
	if err := c.Ping(context.Background(), time.Second); !errors.As(err, &de) || !strings.Contains(de.Reason, "full") {
		t.Fatalf("full master: %v", err)
	}
}
