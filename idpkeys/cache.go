package idpkeys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Defaults of Options.
const (
	DefaultRefresh     = 15 * time.Minute
	DefaultCooldown    = 5 * time.Second
	DefaultHTTPTimeout = 10 * time.Second
)

// Source names where an issuer's keys come from.
type Source struct {
	// Issuer is the IdP's issuer URL, exactly as in its tokens' iss.
	Issuer string
	// JWKSURL, when set, is used instead of the discovery document's jwks_uri.
	JWKSURL string
}

func (s Source) String() string {
	if s.JWKSURL == "" {
		return s.Issuer
	}
	return s.Issuer + " (jwks " + s.JWKSURL + ")"
}

// Errors of Keys.
var (
	// ErrUnknownKid: the key set, refreshed for the kid unless a fetch
	// less than a cooldown ago failed or lacked a kid, has no usable key
	// with the token's kid.
	ErrUnknownKid = errors.New("idpkeys: no key with this kid")
	// ErrUnavailable: no key set could be fetched for the source yet.
	ErrUnavailable = errors.New("idpkeys: keys unavailable")
)

// Options configures a Cache. Zero values take the defaults.
type Options struct {
	// HTTPClient fetches discovery documents and key sets; it must have a
	// timeout. Default: a client with DefaultHTTPTimeout. New uses a copy
	// whose redirects are SameOriginRedirects.
	HTTPClient *http.Client
	// Refresh is the background refresh interval of each key set.
	Refresh time.Duration
	// Cooldown applies per source after a fetch that failed or did not find
	// the kid it was made for: no request-time fetch follows within it
	// (and a failed source is retried in the background after it). A kid
	// the IdP has just rotated in is fetched at once otherwise, while a
	// burst of forged kids costs at most one fetch per Cooldown.
	Cooldown time.Duration
	Log      *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Sources, when set, lists the sources still in use (those of the
	// current idp_jwt clients). RefreshDue calls it first and drops every
	// other source, so the keys of deleted clients are neither refreshed
	// nor reported any more. When it fails, nothing is dropped.
	Sources func(ctx context.Context) ([]Source, error)
}

// Cache holds the key sets of every Source seen so far.
type Cache struct {
	o Options

	mu      sync.Mutex
	entries map[Source]*entry
	// sourcesFailing is set while Options.Sources fails, so an outage
	// (Redis unreachable) is logged once at WARN, not on every tick.
	sourcesFailing atomic.Bool
}

// entry is one Source's state. fetchMu serialises fetches, so concurrent
// requests with unknown kids wait for one fetch instead of starting many.
type entry struct {
	src     Source
	fetchMu sync.Mutex

	mu         sync.RWMutex
	set        jwk.Set   // nil until the first successful fetch
	discovered string    // JWKS URL from discovery, "" until known
	fetchedAt  time.Time // last successful fetch
	attemptAt  time.Time // last fetch attempt
	missAt     time.Time // last fetch that failed or lacked the kid it was made for
	lastErr    error     // error of the last attempt, nil after a success
}

// New returns an empty Cache.
func New(o Options) *Cache {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	hc := *o.HTTPClient
	hc.CheckRedirect = SameOriginRedirects
	o.HTTPClient = &hc
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.Cooldown <= 0 {
		o.Cooldown = DefaultCooldown
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Cache{o: o, entries: map[Source]*entry{}}
}

func (c *Cache) entry(src Source) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[src]
	if !ok {
		e = &entry{src: src}
		c.entries[src] = e
	}
	return e
}

func (c *Cache) all() []*entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*entry, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, e)
	}
	return out
}

// Keys returns the keys of src that may have signed a token with kid (all
// keys when kid is empty). A kid missing from the cached set causes one
// fetch unless a fetch of src less than Cooldown ago failed or lacked the
// kid it was made for; ErrUnknownKid if the kid is still missing.
// ErrUnavailable (wrapping the fetch error) when no key set of src has
// ever been fetched.
func (c *Cache) Keys(ctx context.Context, src Source, kid string) ([]jwk.Key, error) {
	e := c.entry(src)
	set, _ := e.snapshot()
	if set == nil {
		c.refresh(ctx, e, false, kid)
		if set, _ = e.snapshot(); set == nil {
			return nil, fmt.Errorf("%w for %s: %w", ErrUnavailable, src, e.err())
		}
	}
	if keys := match(set, kid); len(keys) > 0 {
		return keys, nil
	}
	if c.refresh(ctx, e, false, kid) {
		set, _ = e.snapshot()
		if keys := match(set, kid); len(keys) > 0 {
			return keys, nil
		}
	}
	return nil, fmt.Errorf("%w %q at %s", ErrUnknownKid, kid, src)
}

// Prefetch fetches src's keys now unless they are cached or a fetch failed
// less than Cooldown ago (serve calls it for every configured issuer at
// start).
func (c *Cache) Prefetch(ctx context.Context, src Source) error {
	e := c.entry(src)
	c.refresh(ctx, e, false, "")
	return e.err()
}

// RefreshDue refreshes every source whose key set is older than Refresh,
// and retries every failed source whose last attempt is older than
// Cooldown. Run calls it periodically.
func (c *Cache) RefreshDue(ctx context.Context) {
	c.prune(ctx)
	now := c.o.Now()
	for _, e := range c.all() {
		e.mu.RLock()
		due := now.Sub(e.fetchedAt) >= c.o.Refresh || (e.lastErr != nil && now.Sub(e.attemptAt) >= c.o.Cooldown)
		e.mu.RUnlock()
		if due {
			c.refresh(ctx, e, true, "")
		}
	}
}

// prune drops the sources Options.Sources no longer lists.
func (c *Cache) prune(ctx context.Context) {
	if c.o.Sources == nil {
		return
	}
	srcs, err := c.o.Sources(ctx)
	if err != nil {
		level := slog.LevelWarn
		if c.sourcesFailing.Swap(true) {
			level = slog.LevelDebug
		}
		c.o.Log.Log(ctx, level, "idp keys: cannot list the issuers in use; keeping every cached issuer", "err", err.Error())
		return
	}
	if c.sourcesFailing.Swap(false) {
		c.o.Log.Info("idp keys: the issuers in use can be listed again")
	}
	keep := make(map[Source]bool, len(srcs))
	for _, s := range srcs {
		keep[s] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for src := range c.entries {
		if !keep[src] {
			delete(c.entries, src)
			c.o.Log.Info("idp keys: issuer no longer used by any client; keys dropped", "issuer", src.Issuer)
		}
	}
}

// Run calls RefreshDue every tick (the smaller of Refresh and Cooldown)
// until ctx ends.
func (c *Cache) Run(ctx context.Context) {
	tick := min(c.o.Refresh, c.o.Cooldown)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.RefreshDue(ctx)
		}
	}
}

// Check reports the degraded sources (last fetch failed), or nil. It is a
// server.Options.ReadyChecks function, and /readyz is public: the detail
// gives only counts and a short reason, never issuer or JWKS URLs nor raw
// fetch errors (refresh logs those).
func (c *Cache) Check(context.Context) error {
	var noKeys, stale int
	for _, e := range c.all() {
		e.mu.RLock()
		if e.lastErr != nil {
			if e.set != nil {
				stale++
			} else {
				noKeys++
			}
		}
		e.mu.RUnlock()
	}
	if noKeys+stale == 0 {
		return nil
	}
	var parts []string
	if noKeys > 0 {
		parts = append(parts, fmt.Sprintf("%d issuer(s) unreachable with no keys cached", noKeys))
	}
	if stale > 0 {
		parts = append(parts, fmt.Sprintf("%d issuer(s) unreachable, using cached keys", stale))
	}
	return errors.New(strings.Join(parts, "; ") + " (details in the logs)")
}

func (e *entry) snapshot() (jwk.Set, time.Time) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.set, e.fetchedAt
}

func (e *entry) err() error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.lastErr
}

// refresh fetches e's key set. A request-time fetch (not scheduled), made
// for kid ("" for any key), is skipped when the set now holds kid (another
// request fetched it meanwhile), and when a fetch less than Cooldown ago
// failed or lacked its kid. It reports whether the set now serves kid from
// a fetch or a concurrent one. The fetch outlives a cancelled request (the
// HTTP client's timeout bounds it), so one impatient caller cannot fail it
// for the others waiting.
func (c *Cache) refresh(ctx context.Context, e *entry, scheduled bool, kid string) bool {
	e.fetchMu.Lock()
	defer e.fetchMu.Unlock()
	e.mu.RLock()
	miss, discovered, cached := e.missAt, e.discovered, e.set
	e.mu.RUnlock()
	now := c.o.Now()
	if !scheduled {
		if cached != nil && (kid == "" || len(match(cached, kid)) > 0) {
			return true
		}
		if !miss.IsZero() && now.Sub(miss) < c.o.Cooldown {
			return false
		}
	}
	set, jwksURL, err := c.fetch(context.WithoutCancel(ctx), e.src, discovered)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.attemptAt = now
	if err != nil {
		e.missAt = now
		if e.lastErr == nil {
			c.o.Log.Warn("idp keys: fetch failed; cached keys stay in use", "issuer", e.src.Issuer,
				"cached_keys", e.set != nil, "err", err.Error())
		}
		e.lastErr = err
		e.discovered = "" // discover again next time: the IdP may have moved its JWKS
		return false
	}
	if e.lastErr != nil {
		c.o.Log.Info("idp keys: issuer reachable again", "issuer", e.src.Issuer)
	}
	e.set, e.discovered, e.fetchedAt, e.lastErr = set, jwksURL, now, nil
	if !scheduled && kid != "" && len(match(set, kid)) == 0 {
		e.missAt = now
	}
	return true
}
