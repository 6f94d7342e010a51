package ratelimit

import (
	"context"

	"github.com/go-redis/redis_rate/v10"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/tokenstore"
)

// Directory limits. Besides its own limit, every client's requests count
// against its directory's: the directory's own limit (DirectorySource,
// set through the admin API) or else the configured directory default
// (ClientOptions.DirectoryRate). The budget is one GCRA state in Redis per
// directory, shared by all its clients on every replica and taken from in
// leases like a client's (lease.go), so the clients of one directory
// together never get more than its limit, and clients of other
// directories are not touched by it.

// bucket is one limit a request is charged to.
type bucket struct {
	key   string           // GCRA state (without redis_rate's "rate:")
	lim   redis_rate.Limit // Rate ≥ 1
	whose string           // "this client", for error details
}

// whoseDirectory names the directory limit in error details.
const whoseDirectory = "this client's directory (shared by all its clients)"

// DirectoryKey returns the limiter key of directory id (without
// redis_rate's "rate:"); the id is the hash tag.
func (l *ClientLimiter) DirectoryKey(id string) string {
	if id == "" {
		id = tokenstore.DefaultDirectory
	}
	return l.prefix + "rl:dir:{" + id + "}"
}

// DirectoryLimitFor returns the limit applying to all the clients of
// directory id together: its own, else the directory default. A zero Rate
// means unlimited.
func (l *ClientLimiter) DirectoryLimitFor(ctx context.Context, id string) redis_rate.Limit {
	if id == "" {
		id = tokenstore.DefaultDirectory
	}
	if lim, ok := toLimit(l.dirs.get(ctx, id, l.now())); ok {
		return lim
	}
	return l.dirDef
}

// buckets appends to bs the limits p's requests are charged to, the
// client's first, then its directory's; unlimited ones are left out. The
// callers pass a stack array's bs[:0], so nothing is allocated when the
// limits are off.
func (l *ClientLimiter) buckets(ctx context.Context, p *auth.Principal, bs []bucket) []bucket {
	if lim := l.LimitFor(ctx, p.ClientID); lim.Rate >= 1 {
		bs = append(bs, bucket{key: l.Key(p.ClientID), lim: lim, whose: "this client"})
	}
	if lim := l.DirectoryLimitFor(ctx, p.DirectoryID); lim.Rate >= 1 {
		bs = append(bs, bucket{key: l.DirectoryKey(p.DirectoryID), lim: lim, whose: whoseDirectory})
	}
	return bs
}

// tighter returns whichever of the admitted results leaves fewer requests
// (a nil shown: res), the one the RateLimit-* headers report.
func tighter(shown, res *redis_rate.Result) *redis_rate.Result {
	if shown == nil || res.Remaining < shown.Remaining {
		return res
	}
	return shown
}

// possessive turns a bucket's whose into "this client's" or "this
// client's directory's".
func possessive(whose string) string {
	if whose == whoseDirectory {
		return "this client's directory's"
	}
	return whose + "'s"
}
