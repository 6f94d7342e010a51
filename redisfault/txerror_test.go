package redisfault_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redisfault"
	"github.com/scimgate/scimgate/redistest"
)

// TestTxErrorOnFullRedis: at maxmemory (noeviction) Redis refuses every
// command queued in a MULTI, reads included, and EXEC answers EXECABORT,
// which is not itself a known fault; TxError finds the OOM behind it, so
// the request is a 503 with Retry-After, not a 500.
func TestTxErrorOnFullRedis(t *testing.T) {
	srv := redistest.StartServer(t, "--maxmemory", "4mb", "--maxmemory-policy", "noeviction")
	c := srv.Client()
	srv.Fill()
	cmds, err := c.TxPipelined(t.Context(), func(p redis.Pipeliner) error {
		p.Get(t.Context(), "a")
		p.HGetAll(t.Context(), "b")
		return nil
	})
	if err == nil || redisfault.Classify(err) != redisfault.None {
		t.Fatalf("EXEC on a full Redis: %v (kind %q); the test no longer shows the abort", err, redisfault.Classify(err))
	}
	if k := redisfault.Classify(redisfault.TxError(cmds, err)); k != redisfault.OOM {
		t.Fatalf("TxError(%v) is kind %q, want oom", err, k)
	}
	if got := redisfault.TxError(cmds, nil); got != nil {
		t.Fatalf("TxError of success: %v", got)
	}
}
