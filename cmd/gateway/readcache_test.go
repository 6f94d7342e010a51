package main

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/redisconn"
)

// TestOpenReadCache: scim.read_cache_mb gives a read cache on a single
// Redis server, and none when it is 0, or the Redis is Sentinel, Cluster or
// the embedded one (go-redis caches only for one server, database 0;
// miniredis has no CLIENT TRACKING).
func TestOpenReadCache(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []struct {
		url  string
		mb   int
		want bool
	}{
		{"redis://127.0.0.1:1", 64, true},
		{"redis://127.0.0.1:1", 0, false},
		{"redis://127.0.0.1:1/1", 64, false},
		{"", 64, false},
		{"redis+sentinel://127.0.0.1:1/mymaster", 64, false},
		{"redis+cluster://127.0.0.1:1,127.0.0.1:2", 64, false},
	} {
		conn, err := redisconn.Open(c.url, time.Second, log)
		if err != nil {
			t.Fatal(err)
		}
		cfg := config.Default()
		cfg.SCIM.ReadCacheMB = c.mb
		rc := openReadCache(conn, cfg, log)
		if got := rc != nil; got != c.want {
			t.Errorf("url %q, read_cache_mb %d: read cache %v, want %v", c.url, c.mb, got, c.want)
		}
		if rc != nil {
			_ = rc.Close()
		}
		_ = conn.Close()
	}
}

// TestReadCacheConfig: the read cache gets scim.read_cache_mb as bytes and
// scim.read_cache_drain as its drain interval.
func TestReadCacheConfig(t *testing.T) {
	cfg := config.Default()
	cfg.SCIM.ReadCacheMB = 3
	cfg.SCIM.ReadCacheDrain = config.Duration(40 * time.Millisecond)
	got := readCacheConfig(cfg, nil)
	if got.MaxBytes != 3<<20 || got.DrainInterval != 40*time.Millisecond {
		t.Fatalf("read cache config %+v, want 3 MiB and a 40ms drain", got)
	}
}
