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
// fetch per cooldown (the first forged kid is fetched for: the last fetch
// found its kid, so it may be a key the IdP has just rotated in).
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
	if n := d.jwksHits.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches for a burst of forged kids within one cooldown, want 1 (after the initial one)", n)
	}
	clk.advance(31 * time.Second)
	for i := range 50 {
		_, _ = c.Keys(context.Background(), src, fmt.Sprintf("again-%d", i))
	}
	if n := d.jwksHits.Load(); n != 3 {
		t.Fatalf("%d JWKS fetches after one cooldown passed, want 3", n)
	}
	wantKid(t, c, src, "k1")
}

// TestKeyRotation: a new kid at the IdP is picked up by one refresh, even
// right after the last fetch (issue 17: the cooldown after any fetch gave
// ~25 s of 401 unknown kid).
func TestKeyRotation(t *testing.T) {
	d := newIDP(t)
	d.addKey(t, "k1")
	clk := &clock{t: time.Unix(1e9, 0)}
	c := newCache(clk)
	src := Source{Issuer: d.srv.URL}
	wantKid(t, c, src, "k1")
	clk.advance(time.Second)
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

// TestRotationAfterForgedKids is issue 17's rotation through a real JWKS
// server, with an attacker's burst just before it: 1000 concurrent forged
// kids cost one fetch; the IdP then rotates to a new kid, which is refused
// (401 unknown kid) only until the 5 s default cooldown after that fetch
// ends, and is then fetched once; the next burst again costs one fetch.
func TestRotationAfterForgedKids(t *testing.T) {
	d := newIDP(t)
	d.addKey(t, "k1")
	clk := &clock{t: time.Unix(1e9, 0)}
	c := New(Options{Now: clk.now, HTTPClient: &http.Client{Timeout: 2 * time.Second}}) // default cooldown
	src := Source{Issuer: d.srv.URL}
	wantKid(t, c, src, "k1")
	burst := func() {
		var wg sync.WaitGroup
		for i := range 1000 {
			wg.Go(func() {
				if _, err := c.Keys(context.Background(), src, fmt.Sprintf("forged-%d", i)); !errors.Is(err, ErrUnknownKid) {
					t.Errorf("forged kid: %v", err)
				}
			})
		}
		wg.Wait()
	}
	burst()
	if n := d.jwksHits.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches for 1000 forged kids, want 1 (+1 initial)", n)
	}
	d.removeAll()
	d.addKey(t, "k2")
	var refused time.Duration
	for step := time.Duration(0); ; step += 500 * time.Millisecond {
		_, err := c.Keys(context.Background(), src, "k2")
		if err == nil {
			refused = step
			break
		}
		if !errors.Is(err, ErrUnknownKid) || step > 10*time.Second {
			t.Fatalf("rotated kid after %s: %v", step, err)
		}
		clk.advance(500 * time.Millisecond)
	}
	if refused > DefaultCooldown {
		t.Fatalf("rotated kid refused for %s, want ≤ %s", refused, DefaultCooldown)
	}
	if n := d.jwksHits.Load(); n != 3 {
		t.Fatalf("%d JWKS fetches, want 3 (one for the rotated kid)", n)
	}
	burst()
	if n := d.jwksHits.Load(); n != 4 {
		t.Fatalf("%d JWKS fetches after a second burst, want 4", n)
	}
	clk.advance(DefaultCooldown - time.Millisecond)
	burst()
	if n := d.jwksHits.Load(); n != 4 {
		t.Fatalf("%d JWKS fetches for a burst within the cooldown, want still 4", n)
	}
}

// TestDiscoveredJWKSMustBeHTTPS: a discovery document naming an http
// jwks_uri off loopback is refused (no fetch of it).
func TestDiscoveredJWKSMustBeHTTPS(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": "http://" + r.Host, "jwks_uri": "http://keys.example/jwks"})
	}))
	t.Cleanup(srv.Close)
	c := newCache(&clock{t: time.Unix(1e9, 0)})
	_, err := c.Keys(context.Background(), Source{Issuer: srv.URL}, "k1")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "https required") {
		t.Fatalf("http jwks_uri: %v", err)
	}
	for _, ok := range []string{"https://idp.example/keys", "http://127.0.0.1:8080/keys", "http://localhost/k", "http://[::1]:1/k"} {
		if err := CheckURL(ok); err != nil {
			t.Errorf("CheckURL(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1/keys", "ftp://idp.example/k", "/keys", "https://"} {
		if err := CheckURL(bad); err == nil {
			t.Errorf("CheckURL(%q) accepted", bad)
		}
	}
}

// TestFetchesDoNotFollowRedirectsElsewhere: a JWKS or discovery URL that
// redirects to another host (or scheme) is not followed; a redirect on the
// same host is.
func TestFetchesDoNotFollowRedirectsElsewhere(t *testing.T) {
	d := newIDP(t)
	d.addKey(t, "k1")
	var elsewhereHits atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhereHits.Add(1)
		d.mu.Lock()
		defer d.mu.Unlock()
		_ = json.NewEncoder(w).Encode(d.keys)
	}))
	t.Cleanup(elsewhere.Close)
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/keys", http.StatusFound)
		case "/keys":
			d.mu.Lock()
			defer d.mu.Unlock()
			_ = json.NewEncoder(w).Encode(d.keys)
		case "/.well-known/openid-configuration":
			http.Redirect(w, r, elsewhere.URL+"/.well-known/openid-configuration", http.StatusFound)
		default:
			http.Redirect(w, r, elsewhere.URL+"/keys", http.StatusFound)
		}
	}))
	t.Cleanup(redir.Close)
	clk := &clock{t: time.Unix(1e9, 0)}
	_, err := newCache(clk).Keys(context.Background(), Source{Issuer: "https://idp.example", JWKSURL: redir.URL + "/jwks"}, "k1")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("JWKS redirect to another host: %v", err)
	}
	_, err = newCache(clk).Keys(context.Background(), Source{Issuer: redir.URL}, "k1")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("discovery redirect to another host: %v", err)
	}
	if n := elsewhereHits.Load(); n != 0 {
		t.Fatalf("the other host was fetched %d times", n)
	}
	wantKid(t, newCache(clk), Source{Issuer: "https://idp.example", JWKSURL: redir.URL + "/moved"}, "k1")
}
