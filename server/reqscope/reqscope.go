// Package reqscope lets the middleware of one request add context values
// without copying the request for each. Every http.Request.WithContext is
// a copy of the whole request; a SCIM request used to make one for its
// deadline, one for its principal and one for its directory store. The
// first of them (server.Deadline) now opens a Scope, and the later ones
// Set their values into it.
//
// A value goes into the Scope only when no context of the request's chain
// carries its key yet, so that reading it is indistinguishable from a
// context.WithValue on the request's current context; otherwise Set falls
// back to exactly that (and copies the request). Each key is set at most
// once in a Scope, and entries never change once published. A value set
// from a context derived under the Scope (a /Bulk operation's) is seen by
// every context under it, so only values that belong to the whole request
// (its principal, its directory's store) should be set through it.
package reqscope

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/gin-gonic/gin"
)

// capacity is how many values one Scope holds; more fall back to
// context.WithValue.
const capacity = 4

type scopeKey struct{}

type entry struct{ key, val any }

// Scope is a context whose values are added after it is created.
type Scope struct {
	context.Context
	mu   sync.Mutex   // serialises Set
	n    atomic.Int32 // entries published; readers see ents[:n]
	ents [capacity]entry
}

// New returns an empty Scope under parent.
func New(parent context.Context) *Scope { return &Scope{Context: parent} }

// Value implements context.Context.
func (s *Scope) Value(key any) any {
	if key == (scopeKey{}) {
		return s
	}
	for i := range s.n.Load() {
		if s.ents[i].key == key {
			return s.ents[i].val
		}
	}
	return s.Context.Value(key)
}

// add publishes key=val unless the Scope is full or already has key.
func (s *Scope) add(key, val any) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.n.Load()
	if int(n) == capacity {
		return false
	}
	for i := range n {
		if s.ents[i].key == key {
			return false
		}
	}
	s.ents[n] = entry{key, val}
	s.n.Store(n + 1) // publishes ents[n] to readers
	return true
}

// WithValue returns ctx carrying key=val (key as for context.WithValue,
// comparable and not nil). When ctx has a Scope and none of its contexts
// carries key yet, the value goes into the Scope and ctx itself is
// returned with added true; otherwise it is context.WithValue(ctx, key,
// val).
func WithValue(ctx context.Context, key, val any) (_ context.Context, added bool) {
	if s, ok := ctx.Value(scopeKey{}).(*Scope); ok && ctx.Value(key) == nil && s.add(key, val) {
		return ctx, true
	}
	return context.WithValue(ctx, key, val), false
}

// Set makes c's request context carry key=val, copying the request only
// when the value could not go into a Scope (see WithValue).
func Set(c *gin.Context, key, val any) {
	if ctx, added := WithValue(c.Request.Context(), key, val); !added {
		c.Request = c.Request.WithContext(ctx)
	}
}
