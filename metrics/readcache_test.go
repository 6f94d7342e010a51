package metrics

import "testing"

// TestWatchReadCache: the read cache's counts are exposed as read at
// scrape time.
func TestWatchReadCache(t *testing.T) {
	m := New()
	st := ReadCacheStats{Hits: 7, Misses: 3, Entries: 2, Bytes: 900, Serving: true}
	if err := m.WatchReadCache(func() ReadCacheStats { return st }); err != nil {
		t.Fatal(err)
	}
	wantSeries(t, scrape(t, m),
		"scimgate_read_cache_hits_total 7", "scimgate_read_cache_misses_total 3",
		"scimgate_read_cache_entries 2", "scimgate_read_cache_bytes 900", "scimgate_read_cache_serving 1")
	st = ReadCacheStats{Hits: 8}
	wantSeries(t, scrape(t, m), "scimgate_read_cache_hits_total 8", "scimgate_read_cache_serving 0")
	if err := m.WatchReadCache(func() ReadCacheStats { return st }); err == nil {
		t.Fatal("a second read cache registered over the first")
	}
}
