package directory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/scimapi/store"
)

// Opener opens the resource store of a stored directory (in production
// store.NewRedisTagged with Tag(d.ID), in the configured delete mode).
type Opener func(d Directory) store.Store

// DefaultCacheTTL is how long Backends trusts what it read of a directory:
// a deleted directory, or a changed quota, takes effect within it.
const DefaultCacheTTL = 5 * time.Second

// maxCached bounds the resolver's cache; when full it starts over.
const maxCached = 10_000

// Backends resolves a directory id to its resource store (it implements
// scimapi.Backends). A store is a small struct over the shared Redis
// client, so opening one per directory is cheap; each is cached for the
// TTL with the directory's quota applied.
type Backends struct {
	reg  *Registry
	open Opener
	ttl  time.Duration
	now  func() time.Time

	mu sync.Mutex
	m  map[string]cached
}

type cached struct {
	st store.Store
	at time.Time
}

// NewBackends returns the resolver over reg (ttl <= 0: DefaultCacheTTL).
func NewBackends(reg *Registry, open Opener, ttl time.Duration) *Backends {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	return &Backends{reg: reg, open: open, ttl: ttl, now: time.Now, m: map[string]cached{}}
}

// For returns the resource store of directory id ("" is the default
// directory). A directory that does not exist or is being deleted gives
// store.ErrNoDirectory; Redis trouble gives its error.
func (b *Backends) For(ctx context.Context, id string) (store.Store, error) {
	if id == "" {
		id = DefaultID
	}
	now := b.now()
	b.mu.Lock()
	e, ok := b.m[id]
	b.mu.Unlock()
	if ok && now.Sub(e.at) < b.ttl {
		if e.st == nil {
			return nil, fmt.Errorf("directory %s: %w", id, store.ErrNoDirectory)
		}
		return e.st, nil
	}
	d, err := b.reg.Get(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		e = cached{at: now}
	case err != nil:
		return nil, fmt.Errorf("resolve directory: %w", err)
	case d.Deleting:
		e = cached{at: now}
	case d.Backend == BackendUpstream:
		// Its requests are forwarded before they reach a store; one gets
		// here only while this replica's caches disagree after a change
		// of backend (at most the TTL): retry shortly.
		e := scimerr.New(http.StatusServiceUnavailable, "", "the directory's backend is changing; retry")
		e.RetryAfter = time.Second
		return nil, e
	case d.Backend != BackendStored:
		return nil, fmt.Errorf("directory %s: backend %q is not supported", id, d.Backend)
	default:
		e = cached{st: store.WithUserQuota(b.open(d), d.MaxUsers), at: now}
	}
	b.mu.Lock()
	if len(b.m) >= maxCached {
		clear(b.m)
	}
	b.m[id] = e
	b.mu.Unlock()
	if e.st == nil {
		return nil, fmt.Errorf("directory %s: %w", id, store.ErrNoDirectory)
	}
	return e.st, nil
}

// Forget drops what the resolver cached of directory id (after a change
// made through this process; other replicas see it within the TTL).
func (b *Backends) Forget(id string) {
	b.mu.Lock()
	delete(b.m, id)
	b.mu.Unlock()
}
