package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Local leasing: instead of one Redis round trip per request, a replica
// takes a batch of tokens from the client's shared GCRA at once
// (takeScript: up to n, fewer when fewer are there) and admits
// requests from that batch until it is used up or leaseTTL old.
//
// Precision. Every admitted request spends a token the shared GCRA in Redis
// handed out, so replicas together never admit more than the limit. They
// can admit less: tokens left in a lease when it expires are forfeited, at
// most one lease per client per replica per leaseTTL, and a lease holds at
// most min(burst/4, rate×leaseSpan) tokens, sized from the client's request
// rate seen by this replica (rate×leaseSpan), so a lease normally lasts
// leaseSpan < leaseTTL and expires with tokens left only when the client's
// requests slow down by more than half within its life. A client under its
// limit does not notice; one at its limit gets partial leases of the whole
// tokens that have refilled (takeScript), used at once. A request is
// refused (429) only when Redis hands out no token.
const (
	// leaseSpan is how much of the client's observed request rate one lease covers.
	leaseSpan = 100 * time.Millisecond
	// leaseTTL is how long leased tokens may be used; unused ones are forfeited.
	leaseTTL = 200 * time.Millisecond
	// maxLeases bounds the per-replica lease table (one entry per client).
	maxLeases = 10000
)

// lease is one client's local batch of tokens on this replica.
type lease struct {
	mu      sync.Mutex
	lim     redis_rate.Limit  // the limit the tokens were taken under
	left    int               // tokens not yet used
	expires time.Time         // end of their use
	res     redis_rate.Result // Redis's answer when they were taken (headers)
	seen    int               // requests since the last take began
	since   time.Time         // start of the last take
	taking  *take             // the take in flight, if any
}

// take is one round trip to Redis; requests that find the lease empty
// while it is in flight wait for it and share its outcome.
type take struct {
	done chan struct{}
	res  *redis_rate.Result
	err  error
}

// leases is the per-replica lease table.
type leases struct {
	mu sync.Mutex
	m  map[string]*lease
}

func (t *leases) get(key string) *lease {
	t.mu.Lock()
	defer t.mu.Unlock()
	le, ok := t.m[key]
	if !ok {
		if len(t.m) >= maxLeases {
			clear(t.m) // many distinct clients: start over (their leases are forfeited)
		}
		le = &lease{}
		t.m[key] = le
	}
	return le
}

// size is the number of tokens the next take asks for: the requests seen
// since the last take, as a rate, times leaseSpan, within
// [1, min(burst/4, limit rate×leaseSpan)]. It starts the next period.
func (le *lease) size(now time.Time, lim redis_rate.Limit) int {
	n := 1
	if el := now.Sub(le.since); !le.since.IsZero() && el > 0 {
		n = int(float64(le.seen) * float64(leaseSpan) / float64(el))
	}
	le.seen, le.since = 0, now
	hi := min(lim.Burst/4, int(float64(lim.Rate)*float64(leaseSpan)/float64(lim.Period)))
	return max(min(n, hi), 1)
}

// allow admits one request of the client with GCRA key key under lim from
// the local lease, taking a new batch from Redis when it is empty or
// expired. The result is Redis's answer as one request sees it: Allowed 1
// (Remaining counting the tokens still leased here) or 0 with RetryAfter.
func (l *ClientLimiter) allow(ctx context.Context, key string, lim redis_rate.Limit) (*redis_rate.Result, error) {
	le := l.leases.get(key)
	le.mu.Lock()
	le.seen++
	for {
		now := time.Now()
		if le.lim != lim || !now.Before(le.expires) {
			le.left = 0 // limit changed or lease expired: forfeit
		}
		if le.left > 0 {
			le.left--
			res := le.res
			res.Allowed, res.Remaining = 1, max(le.res.Remaining, 0)+le.left
			le.mu.Unlock()
			return &res, nil
		}
		if tk := le.taking; tk != nil {
			le.mu.Unlock()
			select {
			case <-tk.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if tk.err != nil || tk.res.Allowed == 0 {
				return tk.res, tk.err // the same answer, not one more round trip each
			}
			le.mu.Lock()
			continue // granted: take from the lease (or start the next take)
		}
		tk := &take{done: make(chan struct{})}
		le.taking = tk
		n := le.size(now, lim)
		le.mu.Unlock()

		// Waiters share this take: the request leaving must not cancel it.
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisTimeout)
		tk.res, tk.err = l.takeN(tctx, key, lim, n)
		cancel()

		le.mu.Lock()
		le.taking = nil
		close(tk.done)
		if tk.err != nil || tk.res.Allowed == 0 {
			le.mu.Unlock()
			return tk.res, tk.err
		}
		le.lim, le.res = lim, *tk.res
		le.left, le.expires = tk.res.Allowed, time.Now().Add(leaseTTL)
		// loop: this request takes the first token like any other
	}
}

// takeScript takes up to ARGV[4] whole tokens from the GCRA state at
// KEYS[1] (the same state redis_rate keeps: the theoretical arrival time as
// seconds since 2017, so Charge's AllowN and leases share one budget). It
// answers {taken, whole tokens left, retry_after, reset_after}; retry_after
// (seconds until one token is there) only when it took none. Unlike
// redis_rate's AllowAtMost it never takes a fraction of a token it does not
// hand out. 1e-3 token of slack absorbs float rounding of the stored TAT
// (miniredis keeps 14 significant digits, 10 µs); it lets a token go at most
// 1e-3 of its interval early and does not accumulate (the TAT still
// advances by whole tokens).
var takeScript = redis.NewScript(`
redis.replicate_commands()
local key = KEYS[1]
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local interval = period / rate
local t = redis.call("TIME")
local now = (t[1] - 1483228800) + (t[2] / 1000000)
local tat = tonumber(redis.call("GET", key) or now)
tat = math.max(tat, now)
local diff = now - (tat - interval * burst)
local avail = math.floor(diff / interval + 1e-3)
if avail < 1 then
  return {0, 0, tostring(interval - diff), tostring(tat - now)}
end
local n = math.min(want, avail)
local new_tat = tat + interval * n
redis.call("SET", key, new_tat, "EX", math.ceil(new_tat - now))
return {n, avail - n, "-1", tostring(new_tat - now)}
`)

// takeN runs takeScript for up to n tokens of key under lim.
func (l *ClientLimiter) takeN(ctx context.Context, key string, lim redis_rate.Limit, n int) (*redis_rate.Result, error) {
	v, err := takeScript.Run(ctx, l.rdb, []string{key}, lim.Burst, lim.Rate, lim.Period.Seconds(), n).Slice()
	if err != nil {
		return nil, fmt.Errorf("take rate-limit tokens: %w", err)
	}
	if len(v) != 4 {
		return nil, fmt.Errorf("take rate-limit tokens: %d values in the answer", len(v))
	}
	allowed, ok1 := v[0].(int64)
	remaining, ok2 := v[1].(int64)
	rs, ok3 := v[2].(string)
	ss, ok4 := v[3].(string)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, fmt.Errorf("take rate-limit tokens: unexpected answer %v", v)
	}
	retry, err1 := strconv.ParseFloat(rs, 64)
	reset, err2 := strconv.ParseFloat(ss, 64)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("take rate-limit tokens: unexpected answer %v", v)
	}
	return &redis_rate.Result{
		Limit: lim, Allowed: int(allowed), Remaining: int(remaining),
		RetryAfter: secondsDur(retry), ResetAfter: secondsDur(reset),
	}, nil
}

// secondsDur converts the script's seconds (-1: none) to a duration.
func secondsDur(s float64) time.Duration {
	if s == -1 {
		return -1
	}
	return time.Duration(s * float64(time.Second))
}
