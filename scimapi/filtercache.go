package scimapi

import (
	"sync"

	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/schema"
)

// filterCacheSize bounds the compiled-filter cache; when full it starts over.
const filterCacheSize = 4096

// filterCache keeps compiled filters by resource type and text: parsing is
// the largest CPU cost of an indexed list, and IdPs repeat their filters
// (connection tests, delta syncs, lookups retried). Compiled filters are
// immutable, so one may serve many requests at once. Failed compilations
// are not kept, and a text is checked against the limits before it is
// looked up or parsed. Filters of the simple shapes (`userName eq "x"`,
// and chains of such) compile in a few allocations and are not kept: an
// initial sync sends one per user with a different literal each time, and
// caching them would only evict the filters that are worth keeping.
type filterCache struct {
	limits filter.Limits
	mu     sync.Mutex
	m      map[filterKey]*filter.Filter
}

type filterKey struct {
	rt      *schema.ResourceType
	lenient bool
	text    string
}

func (fc *filterCache) compile(rt *schema.ResourceType, text string, lenient bool) (*filter.Filter, error) {
	if f, simple, err := fc.limits.CompileSimple(rt, text, lenient); simple {
		return f, err
	}
	k := filterKey{rt: rt, lenient: lenient, text: text}
	fc.mu.Lock()
	f, ok := fc.m[k]
	fc.mu.Unlock()
	if ok {
		return f, nil
	}
	compile := fc.limits.Compile
	if lenient {
		compile = fc.limits.CompileLenient
	}
	f, err := compile(rt, text)
	if err != nil {
		return nil, err
	}
	fc.mu.Lock()
	if fc.m == nil || len(fc.m) >= filterCacheSize {
		fc.m = make(map[filterKey]*filter.Filter, 64)
	}
	fc.m[k] = f
	fc.mu.Unlock()
	return f, nil
}
