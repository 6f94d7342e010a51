package ratelimit

import (
	"context"
	"net/netip"
	"strings"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// NewGCRA returns a go-redis/redis_rate limiter that uses the keys it is
// given as they are. redis_rate puts "rate:" in front of every key, which
// would leave the limiter's keys outside redis.prefix and outside a Redis
// ACL such as ~<prefix>*; this client takes that "rate:" off again.
func NewGCRA(rdb redis.UniversalClient) *redis_rate.Limiter {
	return redis_rate.NewLimiter(unprefixed{rdb})
}

// rateKeyPrefix is what redis_rate v10 puts in front of every key.
const rateKeyPrefix = "rate:"

// unprefixed is the redis_rate client that strips rateKeyPrefix.
type unprefixed struct{ redis.UniversalClient }

func strip(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, rateKeyPrefix)
	}
	return out
}

func (u unprefixed) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return u.UniversalClient.Eval(ctx, script, strip(keys), args...)
}

func (u unprefixed) EvalSha(ctx context.Context, sha string, keys []string, args ...any) *redis.Cmd {
	return u.UniversalClient.EvalSha(ctx, sha, strip(keys), args...)
}

func (u unprefixed) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return u.UniversalClient.EvalRO(ctx, script, strip(keys), args...)
}

func (u unprefixed) EvalShaRO(ctx context.Context, sha string, keys []string, args ...any) *redis.Cmd {
	return u.UniversalClient.EvalShaRO(ctx, sha, strip(keys), args...)
}

func (u unprefixed) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return u.UniversalClient.Del(ctx, strip(keys)...)
}

// DefaultIPv6Prefix is the default prefix length IPv6 sources are grouped by.
const DefaultIPv6Prefix = 64

// Grouping maps a source address to the network its failed
// authentications are charged to: an IPv4 address stands for itself, an
// IPv6 address for its /IPv6Bits prefix (one customer or attacker is
// usually handed a whole /64, so per-address budgets would not bind).
type Grouping struct {
	// IPv6Bits is the IPv6 prefix length (DefaultIPv6Prefix when not in 1..128).
	IPv6Bits int
}

// Network returns the network of address ip: "192.0.2.7" or
// "2001:db8:1:2::/64". Text that is not an address is returned as is.
func (g Grouping) Network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	bits := g.IPv6Bits
	if bits < 1 || bits > 128 {
		bits = DefaultIPv6Prefix
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return a.String()
	}
	return p.String()
}
