// Package redistest gives store tests a Redis on every backend scimgate
// supports: the embedded miniredis and a real Redis server named by
// SCIMGATE_TEST_REDIS_URL. A conformance suite calls Run once and its test
// body executes against both, the way dex runs one storage suite everywhere.
//
// When CI=true and SCIMGATE_TEST_REDIS_URL is unset, the real-Redis subtests
// fail instead of skipping, so CI cannot pass without a real server.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// EnvURL names the variable holding the real Redis server's URL.
const EnvURL = "SCIMGATE_TEST_REDIS_URL"

// Redis is one backend handed to a test. Keys the test writes must start
// with Prefix, which is unique to the test, so tests may share a server.
type Redis struct {
	Client redis.UniversalClient
	Prefix string
	// Mini is the miniredis server on the miniredis backend, nil on real Redis.
	Mini *miniredis.Miniredis
}

// Run runs fn as a subtest on each backend: "miniredis" and "redis".
func Run(t *testing.T, fn func(t *testing.T, r *Redis)) {
	t.Helper()
	t.Run("miniredis", func(t *testing.T) { fn(t, Mini(t)) })
	t.Run("redis", func(t *testing.T) { fn(t, Real(t)) })
}

// Mini returns a fresh miniredis backend, closed when the test ends.
func Mini(t testing.TB) *Redis {
	t.Helper()
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Protocol: 2, Addr: m.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return &Redis{Client: c, Prefix: uniquePrefix(t), Mini: m}
}

// Real returns the real Redis backend, or skips (fails under CI=true) when
// SCIMGATE_TEST_REDIS_URL is unset. Keys under the test's prefix are deleted
// when the test ends.
func Real(t testing.TB) *Redis {
	t.Helper()
	url := os.Getenv(EnvURL)
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI must run the real-Redis tests", EnvURL)
		}
		t.Skipf("%s not set; real-Redis backend skipped", EnvURL)
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	opts.PoolSize = 64
	opts.Protocol = 2 // as redisconn
	c := redis.NewClient(opts)
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("real redis at %s does not answer: %v", EnvURL, err)
	}
	r := &Redis{Client: c, Prefix: uniquePrefix(t)}
	t.Cleanup(func() {
		deletePrefix(c, r.Prefix)
		_ = c.Close()
	})
	return r
}

func uniquePrefix(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "test:" + hex.EncodeToString(b) + ":"
}

func deletePrefix(c *redis.Client, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			c.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		c.Unlink(ctx, batch...)
	}
}
