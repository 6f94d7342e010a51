package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Route families of failed authentications (Failure.Route).
const (
	RouteSCIM    = "scim"
	RouteOAuth   = "oauth"
	RouteAdmin   = "admin"
	RouteConsole = "console"
)

// OtherNetwork is the network of the aggregate that collects the failures
// of a minute beyond the cap on distinct aggregates.
const OtherNetwork = "other"

// otherReason is the reason of the OtherNetwork aggregate.
const otherReason = "failures beyond the per-minute cap on distinct AUTH_FAILED aggregates (audit.auth_failure_keys)"

// DefaultFailureKeys is the default cap on distinct AUTH_FAILED aggregates
// per minute.
const DefaultFailureKeys = 100

// aggregateTTL keeps an unflushed minute in Redis while no replica runs.
const aggregateTTL = 24 * time.Hour

// Failure is one failed authentication, as aggregated into AUTH_FAILED.
type Failure struct {
	// Network is the source network the failure is charged to: an IPv4
	// address, or an IPv6 prefix (ratelimit.Grouping).
	Network string
	// Reason must be bounded and safe to log (auth.Reject, auth.LogSafe).
	Reason string
	// ClientID is set only for a client that exists.
	ClientID string
	// Route is the route family (RouteSCIM, RouteOAuth, ...).
	Route string
	// Method is the authentication method tried, when known.
	Method    string
	RequestID string
	Time      time.Time
}

// aggregateKey is the part of a Failure that selects its aggregate; its
// JSON is the aggregate's field name in the Redis hash.
type aggregateKey struct {
	Network  string `json:"n"`
	Reason   string `json:"r"`
	ClientID string `json:"c,omitempty"`
	Route    string `json:"x,omitempty"`
	Method   string `json:"m,omitempty"`
}

var otherKey = aggregateKey{Network: OtherNetwork, Reason: otherReason}

// Failures turns failed authentications into AUTH_FAILED aggregates: one
// event per (source network, reason, client, route family, method) and
// minute, carrying the count and the first and last time, so whatever an
// attacker sends, the audit stream grows by at most MaxKeys+1 events per
// minute (the +1 is the "other" aggregate that collects the failures of
// the minute beyond MaxKeys distinct aggregates).
//
// The open minute is one Redis hash shared by every replica. A script adds
// each failure to it; the first failure (or Flush) after the minute has
// rolled over takes the closed minute's aggregates out of the hash in the
// same script, so exactly one replica appends them to the stream.
type Failures struct {
	c       redis.UniversalClient
	key     string
	log     *Log
	maxKeys int
}

// NewFailures aggregates into the hash <prefix>{scim}:audit:failures and
// appends to l; maxKeys ≤ 0 means DefaultFailureKeys.
func NewFailures(c redis.UniversalClient, prefix string, l *Log, maxKeys int) *Failures {
	if maxKeys <= 0 {
		maxKeys = DefaultFailureKeys
	}
	return &Failures{c: c, key: FailuresKey(prefix), log: l, maxKeys: maxKeys}
}

// FailuresKey returns the key of the open minute's aggregates for prefix.
func FailuresKey(prefix string) string { return prefix + "{scim}:audit:failures" }

// MaxKeys is the cap on distinct aggregates per minute.
func (f *Failures) MaxKeys() int { return f.maxKeys }

// failureScript adds one failure (ARGV[2] != "") to the open minute and,
// when ARGV[1] is a later minute than the open one, first takes the open
// minute's fields out and returns them (HGETALL layout).
//
// Fields: _m open minute; _n distinct aggregates (the "other" one not
// counted); per aggregate k: c:k count, f:k / l:k first / last unix ms,
// q:k the first failure's request id.
var failureScript = redis.NewScript(`
local key, minute, field, now, cap, other, rid, ttl = KEYS[1], tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]
local out = {}
local cur = tonumber(redis.call('HGET', key, '_m') or '')
if cur and cur < minute then
  out = redis.call('HGETALL', key)
  redis.call('DEL', key)
  cur = nil
end
if field == '' then return out end
if not cur then redis.call('HSET', key, '_m', minute) end
if redis.call('HEXISTS', key, 'c:' .. field) == 0 then
  if field ~= other and tonumber(redis.call('HGET', key, '_n') or '0') >= cap then
    field = other
  end
  if redis.call('HEXISTS', key, 'c:' .. field) == 0 then
    if field ~= other then redis.call('HINCRBY', key, '_n', 1) end
    redis.call('HSET', key, 'f:' .. field, now, 'q:' .. field, rid)
  end
end
redis.call('HINCRBY', key, 'c:' .. field, 1)
redis.call('HSET', key, 'l:' .. field, now)
redis.call('PEXPIRE', key, ttl)
return out
`)

// minuteOf is the aggregation minute of t.
func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

// Record adds one failure to its aggregate, and appends the previous
// minute's aggregates if this is the first failure since it closed.
func (f *Failures) Record(ctx context.Context, fl Failure) error {
	if fl.Time.IsZero() {
		fl.Time = time.Now()
	}
	field, err := json.Marshal(aggregateKey{Network: fl.Network, Reason: fl.Reason, ClientID: fl.ClientID, Route: fl.Route, Method: fl.Method})
	if err != nil {
		return fmt.Errorf("audit: encode failure: %w", err)
	}
	return f.run(ctx, fl.Time, string(field), fl.RequestID)
}

// Flush appends the aggregates of a minute that closed before now, if no
// failure has done so yet. The gateway calls it periodically (RunFlusher).
func (f *Failures) Flush(ctx context.Context, now time.Time) error {
	return f.run(ctx, now, "", "")
}

func (f *Failures) run(ctx context.Context, now time.Time, field, requestID string) error {
	other, _ := json.Marshal(otherKey)
	res, err := failureScript.Run(ctx, f.c, []string{f.key},
		minuteOf(now), field, now.UnixMilli(), f.maxKeys, string(other), requestID, aggregateTTL.Milliseconds()).StringSlice()
	if err != nil {
		return fmt.Errorf("audit: aggregate failed authentication: %w", err)
	}
	if len(res) == 0 {
		return nil
	}
	return f.append(ctx, decodeAggregates(res))
}

// append writes the taken aggregates to the stream in one round trip.
func (f *Failures) append(ctx context.Context, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	cmds, err := f.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range evs {
			p.XAdd(ctx, &redis.XAddArgs{Stream: f.log.key, MaxLen: f.log.maxLen, Approx: true, Values: AppendFields(nil, e)})
		}
		return nil
	})
	if err != nil {
		lost := 0
		for _, c := range cmds {
			if c.Err() != nil {
				lost++
			}
		}
		return fmt.Errorf("audit: append %d of %d AUTH_FAILED aggregates: %w", lost, len(evs), err)
	}
	return nil
}

// decodeAggregates turns a taken hash (HGETALL layout) into events, oldest
// last failure first.
func decodeAggregates(kv []string) []Event {
	type agg struct {
		n           int64
		first, last int64
		rid         string
	}
	byField := map[string]*agg{}
	var order []string
	get := func(k string) *agg {
		a, ok := byField[k]
		if !ok {
			a = &agg{}
			byField[k] = a
			order = append(order, k)
		}
		return a
	}
	for i := 0; i+1 < len(kv); i += 2 {
		name, val := kv[i], kv[i+1]
		kind, field, ok := strings.Cut(name, ":")
		if !ok || strings.HasPrefix(name, "_") {
			continue
		}
		a := get(field)
		switch kind {
		case "c":
			a.n, _ = strconv.ParseInt(val, 10, 64)
		case "f":
			a.first, _ = strconv.ParseInt(val, 10, 64)
		case "l":
			a.last, _ = strconv.ParseInt(val, 10, 64)
		case "q":
			a.rid = val
		}
	}
	evs := make([]Event, 0, len(order))
	for _, field := range order {
		a := byField[field]
		var k aggregateKey
		if a.n == 0 || json.Unmarshal([]byte(field), &k) != nil {
			continue
		}
		first, last := time.UnixMilli(a.first).UTC(), time.UnixMilli(a.last).UTC()
		e := Event{
			Time: last, Action: AuthFailed, Outcome: OutcomeFailure,
			Actor:     Actor{ClientID: k.ClientID, AuthMethod: k.Method},
			RequestID: a.rid, Reason: k.Reason, Network: k.Network, Route: k.Route,
			Count: a.n, First: &first, Last: &last,
		}
		if !strings.Contains(k.Network, "/") && k.Network != OtherNetwork {
			e.SourceIP = k.Network
		}
		if k.ClientID != "" {
			e.Target = Target{Type: "Client", ID: k.ClientID}
		}
		evs = append(evs, e)
	}
	slices.SortStableFunc(evs, func(a, b Event) int { return a.Time.Compare(b.Time) })
	return evs
}

// FlushEvery is how often RunFlusher closes a finished minute that no
// failure has closed.
const FlushEvery = 15 * time.Second

// RunFlusher calls Flush every FlushEvery until ctx ends, so the last
// minute of an attack reaches the stream even when no failure follows it.
// Every replica may run it: the script hands each closed minute to exactly
// one caller.
func (f *Failures) RunFlusher(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := f.Flush(ctx, time.Now()); err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("AUTH_FAILED aggregates not flushed", "err", err.Error())
		}
	}
}
