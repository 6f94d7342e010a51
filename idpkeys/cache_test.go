package idpkeys

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// idp is a test IdP serving discovery and a JWKS, counting requests.
type idp struct {
	srv        *httptest.Server
	jwksHits   atomic.Int64
	discoHits  atomic.Int64
	down       atomic.Bool
	mu         sync.Mutex
	keys       jwk.Set
	issuerName string // issuer in the discovery document; "" = the server URL
}

func newIDP(t *testing.T) *idp {
	d := &idp{keys: jwk.NewSet()}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			d.discoHits.Add(1)
			iss := d.issuerName
			if iss == "" {
				iss = d.srv.URL
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "jwks_uri": d.srv.URL + "/keys"})
		case "/keys":
			d.jwksHits.Add(1)
			d.mu.Lock()
			defer d.mu.Unlock()
			_ = json.NewEncoder(w).Encode(d.keys)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(d.srv.Close)
	return d
}

// addKey publishes a new EC public key with kid.
func (d *idp) addKey(t *testing.T, kid string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.FromRaw(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, kid)
	d.mu.Lock()
	defer d.mu.Unlock()
	_ = d.keys.AddKey(k)
}

func (d *idp) removeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.keys = jwk.NewSet()
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func newCache(clk *clock) *Cache {
	return New(Options{Refresh: 10 * time.Minute, Cooldown: 30 * time.Second, Now: clk.now,
		HTTPClient: &http.Client{Timeout: 2 * time.Second}})
}

func wantKid(t *testing.T, c *Cache, src Source, kid string) {
	t.Helper()
	keys, err := c.Keys(context.Background(), src, kid)
	if err != nil {
		t.Fatalf("Keys(%q): %v", kid, err)
	}
	if len(keys) != 1 || keys[0].KeyID() != kid {
		t.Fatalf("Keys(%q) = %d keys", kid, len(keys))
	}
}

func TestDiscoveryOnceAndCached(t *testing.T) {
	d := newIDP(t)
	d.addKey(t, "k1")
	c := newCache(&clock{t: time.Unix(1e9, 0)})
	src := Source{Issuer: d.srv.URL}
	for range 5 {
		wantKid(t, c, src, "k1")
	}
	if d.discoHits.Load() != 1 || d.jwksHits.Load() != 1 {
		t.Fatalf("discovery %d, jwks %d fetches; want 1 and 1", d.discoHits.Load(), d.jwksHits.Load())
	}
	// An explicit JWKS URL skips discovery.
	c2 := newCache(&clock{t: time.Unix(1e9, 0)})
	wantKid(t, c2, Source{Issuer: "https://elsewhere.example", JWKSURL: d.srv.URL + "/keys"}, "k1")
	if d.discoHits.Load() != 1 {
		t.Fatal("discovery used despite an explicit JWKS URL")
	}
}

func TestDiscoveryRefusesOtherIssuer(t *testing.T) {
	d := newIDP(t)
	d.addKey(t, "k1")
	d.issuerName = "https://evil.example"
	c := newCache(&clock{t: time.Unix(1e9, 0)})
	_, err := c.Keys(context.Background(), Source{Issuer: d.srv.URL}, "k1")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "issuer") {
		t.Fatalf("issuer mismatch: %v", err)
	}
}

// TestUnknownKidStorm: many tokens with random kids cause at most one JWKS
// fetch per cooldown.
func TestUnknownKidStorm(t *testing.T) {
	d := newIDP(t)
	d.addKey(t, "k1")
	clk := &clock{t: time.Unix(1e9, 0)}
	c := newCache(clk)
	src := Source{Issuer: d.srv.URL}
	wantKid(t, c, src, "k1") // fetch 1
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Keys(context.Background(), src, fmt.Sprintf("forged-%d", i))
			if !errors.Is(err, ErrUnknownKid) {
				t.Errorf("forged kid: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := d.jwksHits.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches within one cooldown after the first, want 1", n)
	}
	clk.advance(31 * time.Second)
	for i := range 50 {
		_, _ = c.Keys(context.Background(), src, fmt.Sprintf("again-%d", i))
	}
	if n := d.jwksHits.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches after one cooldown passed, want 2", n)
	}
	wantKid(t, c, src, "k1")
}

// TestKeyRotation: a new kid at the IdP is picked up by one refresh.
func TestKeyRotation(t *testing.T) {
	d := newIDP(t)
	d.addKey(t, "k1")
	clk := &clock{t: time.Unix(1e9, 0)}
	c := newCache(clk)
	src := Source{Issuer: d.srv.URL}
	wantKid(t, c, src, "k1")
	clk.advance(time.Minute)
	d.removeAll()
	d.addKey(t, "k2")
	wantKid(t, c, src, "k2")
	if _, err := c.Keys(context.Background(), src, "k1"); !errors.Is(err, ErrUnknownKid) {
		t.Fatalf("retired kid still served: %v", err)
	}
	// The background refresh also picks up rotations.
	d.addKey(t, "k3")
	clk.advance(11 * time.Minute)
	c.RefreshDue(context.Background())
	n := d.jwksHits.Load()
	wantKid(t, c, src, "k3")
	if d.jwksHits.Load() != n {
		t.Fatal("k3 needed a request-time fetch after the background refresh")
	}
}

// TestOutageKeepsCachedKeys: while the IdP is down, cached keys work and
// Check reports the issuer degraded until it recovers.
func TestOutageKeepsCachedKeys(t *testing.T) {
	d := newIDP(t)
	d.addKey(t, "k1")
	clk := &clock{t: time.Unix(1e9, 0)}
	c := newCache(clk)
	src := Source{Issuer: d.srv.URL}
	wantKid(t, c, src, "k1")
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("healthy issuer degraded: %v", err)
	}
	d.down.Store(true)
	clk.advance(11 * time.Minute)
	c.RefreshDue(context.Background())
	wantKid(t, c, src, "k1")
	err := c.Check(context.Background())
	if err == nil || strings.Contains(err.Error(), d.srv.URL) || !strings.Contains(err.Error(), "1 issuer(s) unreachable, using cached keys") {
		t.Fatalf("Check during outage: %v", err)
	}
	// Unknown kids during the outage: refused, fetch retried once per cooldown.
	hits := d.jwksHits.Load() + d.discoHits.Load()
	for range 20 {
		if _, err := c.Keys(context.Background(), src, "new"); !errors.Is(err, ErrUnknownKid) {
			t.Fatalf("unknown kid during outage: %v", err)
		}
	}
	if got := d.jwksHits.Load() + d.discoHits.Load(); got != hits {
		t.Fatalf("%d requests to a down IdP within the cooldown", got-hits)
	}
	d.down.Store(false)
	clk.advance(31 * time.Second)
	c.RefreshDue(context.Background())
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("recovered issuer still degraded: %v", err)
	}
}

// TestIdPDownAtStart: no keys yet gives ErrUnavailable and a degraded
// check; the source recovers by itself.
func TestIdPDownAtStart(t *testing.T) {
	d := newIDP(t)
	d.addKey(t, "k1")
	d.down.Store(true)
	clk := &clock{t: time.Unix(1e9, 0)}
	c := newCache(clk)
	src := Source{Issuer: d.srv.URL}
	if err := c.Prefetch(context.Background(), src); err == nil {
		t.Fatal("prefetch from a down IdP succeeded")
	}
	if _, err := c.Keys(context.Background(), src, "k1"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("keys of a down IdP: %v", err)
	}
	if err := c.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "no keys cached") ||
		strings.Contains(err.Error(), d.srv.URL) || strings.Contains(err.Error(), "502") {
		t.Fatalf("Check: %v", err)
	}
	d.down.Store(false)
	clk.advance(31 * time.Second)
	c.RefreshDue(context.Background())
	wantKid(t, c, src, "k1")
}

// TestRunRefreshes: the background loop runs RefreshDue.
func TestRunRefreshes(t *testing.T) {
	d := newIDP(t)
	d.addKey(t, "k1")
	c := New(Options{Refresh: 20 * time.Millisecond, Cooldown: 10 * time.Millisecond})
	src := Source{Issuer: d.srv.URL}
	wantKid(t, c, src, "k1")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for d.jwksHits.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if d.jwksHits.Load() < 3 {
		t.Fatalf("background refresh fetched %d times", d.jwksHits.Load())
	}
}
