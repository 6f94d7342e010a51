package idpkeys

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUnusedSourcesDropped (L5): a source no current client uses is no
// longer refreshed or reported degraded; /readyz's detail names no URL.
func TestUnusedSourcesDropped(t *testing.T) {
	live, gone := newIDP(t), newIDP(t)
	live.addKey(t, "k1")
	gone.addKey(t, "k1")
	var mu sync.Mutex
	inUse := []Source{{Issuer: live.srv.URL}, {Issuer: gone.srv.URL, JWKSURL: gone.srv.URL + "/keys"}}
	clk := &clock{t: time.Unix(1e9, 0)}
	c := New(Options{Refresh: 10 * time.Minute, Cooldown: 30 * time.Second, Now: clk.now,
		HTTPClient: &http.Client{Timeout: 2 * time.Second},
		Sources: func(context.Context) ([]Source, error) {
			mu.Lock()
			defer mu.Unlock()
			return append([]Source(nil), inUse...), nil
		}})
	for _, src := range inUse {
		wantKid(t, c, src, "k1")
	}
	gone.down.Store(true)
	clk.advance(11 * time.Minute)
	c.RefreshDue(context.Background())
	err := c.Check(context.Background())
	if err == nil || strings.Contains(err.Error(), gone.srv.URL) || strings.Contains(err.Error(), "/keys") {
		t.Fatalf("Check with one issuer down: %v", err)
	}

	// The client of gone is deleted: its source goes on the next refresh.
	mu.Lock()
	inUse = inUse[:1]
	mu.Unlock()
	clk.advance(11 * time.Minute)
	c.RefreshDue(context.Background())
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("deleted client's issuer still reported: %v", err)
	}
	if got := len(c.all()); got != 1 {
		t.Fatalf("%d sources cached, want 1", got)
	}
}
