package redisfault

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// TestReplyKinds classifies the error replies a real client receives
// (miniredis answers every command with the configured reply), also when
// wrapped the way the stores wrap them.
func TestReplyKinds(t *testing.T) {
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	cases := map[string]Kind{
		"LOADING Redis is loading the dataset in memory":                         Loading,
		"READONLY You can't write against a read only replica.":                  ReadOnly,
		"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is no": MasterDown,
		"CLUSTERDOWN The cluster is down":                                        ClusterDown,
		"TRYAGAIN Multiple keys request during rehashing of slot":                TryAgain,
		"OOM command not allowed when used memory > 'maxmemory'.":                OOM,
		"NOPERM this user has no permissions to run the 'set' command":           NoPerm,
		"BUSY Redis is busy running a script.":                                   Busy,
		"NOREPLICAS Not enough good replicas to write.":                          NoReplicas,
		// A reply raised by redis.call inside a script quotes the original.
		"ERR Error running script (call to f_x): @user_script:1: OOM command not allowed when used memory > 'maxmemory'.": OOM,
		DeadlineReply:                       Deadline,
		"ERR wrong number of arguments":     None,
		"NOTFOUND":                          None,
		"UNIQUENESS userName":               None,
		"WRONGTYPE Operation against a key": None,
	}
	for reply, want := range cases {
		m.SetError(reply)
		err := c.Set(context.Background(), "k", "v", 0).Err()
		if err == nil {
			t.Fatalf("%q: no error", reply)
		}
		if got := Classify(fmt.Errorf("store: write: %w", err)); got != want {
			t.Errorf("%q: got %q, want %q", reply, got, want)
		}
	}
	m.SetError("")
}

func TestTransportKinds(t *testing.T) {
	ctx := context.Background()
	// Nothing listens on port 1: connection refused.
	refused := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = refused.Close() })
	if got := Classify(refused.Ping(ctx).Err()); got != Connection {
		t.Errorf("refused: got %q", got)
	}

	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true})
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if got := Classify(c.Ping(expired).Err()); got != Timeout {
		t.Errorf("expired deadline: got %q", got)
	}
	canceled, cancel2 := context.WithCancel(ctx)
	cancel2()
	if got := Classify(c.Ping(canceled).Err()); got != Canceled {
		t.Errorf("canceled: got %q", got)
	}
	_ = c.Close()
	if got := Classify(c.Ping(ctx).Err()); got != Closed {
		t.Errorf("closed client: got %q", got)
	}
	if got := Classify(fmt.Errorf("wrapped: %w", redis.ErrPoolTimeout)); got != Pool {
		t.Errorf("pool: got %q", got)
	}
	for _, err := range []error{nil, redis.Nil, errors.New("boom"), fmt.Errorf("x: %w", redis.TxFailedErr)} {
		if got := Classify(err); got != None {
			t.Errorf("%v: got %q, want none", err, got)
		}
	}
}

func TestEveryKindHasAnswer(t *testing.T) {
	for _, k := range Kinds {
		if RetryAfter(k) < time.Second || Detail(k) == "" {
			t.Errorf("%s: retry %v detail %q", k, RetryAfter(k), Detail(k))
		}
	}
	if d := Detail(OOM); d[:len("storage is full")] != "storage is full" {
		t.Errorf("OOM detail %q", d)
	}
}
