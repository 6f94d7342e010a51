// Package ratelimit protects the SCIM API with limits shared by every
// gateway replica through Redis:
//
//   - ClientLimiter: a GCRA limit per SCIM client (github.com/go-redis/redis_rate),
//     the configured default or the client's own override, checked after
//     authentication from tokens each replica leases from Redis in batches
//     sized to the client's request rate (one round trip per batch; never
//     more admitted than the shared limit, see lease.go); and, the same
//     way, a limit per directory shared by all its clients (directory.go).
//   - FailureGuard: a budget of failed authentications per source address,
//     checked before authentication from process memory (no round trip),
//     and charged in Redis only when an authentication fails, so brute force
//     is throttled before a client is even known.
//
// Over a limit the answer is 429 with a SCIM error body, Retry-After and
// RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset headers (the
// RateLimit-* headers are also set on admitted requests). When Redis is
// unreachable the ClientLimiter fails in the configured direction: allow
// (log, at most every few seconds) or deny (503 with Retry-After), never 500.
//
// Failure budgets are kept per source network (Grouping: an IPv4 address,
// an IPv6 /64 by default). When Redis fails, both follow OnRedisError.
//
// Redis keys, all under the configured prefix (NewGCRA takes off the
// "rate:" the redis_rate library puts in front of its keys):
//
//	<prefix>rl:client:{<client id>}   GCRA state of a client's request rate
//	<prefix>rl:dir:{<directory id>}   GCRA state of a directory's request rate
//	<prefix>rl:authfail:{<network>}   GCRA state of a network's failure budget
package ratelimit
