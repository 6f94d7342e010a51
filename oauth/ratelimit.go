package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redisfault"
)

// FailureLimiter counts failed client authentications in fixed windows in
// Redis, shared by every replica, under three counters:
//
//   - per (client id, source address): Max failures, then that address is
//     refused (429) for that client id until the window ends;
//   - per source address: AddressFactor × Max failures over all client
//     ids, then the address is refused for every client id (an address
//     spraying ids); the factor keeps one misconfigured client behind a
//     shared (NAT) address from locking out its neighbours at once;
//   - per client id: only a ceiling for distributed guessing. It is never
//     enough on its own to refuse a request: knowing a client id must not
//     let anyone lock that client out (the counter is bumped before any
//     secret is known to be right). Once a client id has IDFactor × Max
//     failures in the window, an address that already failed for that
//     client id in the window is refused, so guessing from many addresses
//     is cut to one attempt per address per window, while an address with
//     no failure for that id — the real client — still reaches the secret
//     check.
//
// Check runs before the secret check, so throttled requests cost no
// bcrypt.
type FailureLimiter struct {
	rdb    redis.UniversalClient
	base   string
	max    int64
	window time.Duration
}

// AddressFactor and IDFactor scale Max into the per-address and per-client
// id ceilings (see FailureLimiter).
const (
	AddressFactor = 5
	IDFactor      = 10
)

// NewFailureLimiter returns a limiter allowing max failures per window.
func NewFailureLimiter(rdb redis.UniversalClient, prefix string, max int, window time.Duration) (*FailureLimiter, error) {
	if strings.ContainsAny(prefix, "{}") {
		return nil, fmt.Errorf("oauth: key prefix %q must not contain braces", prefix)
	}
	if max < 1 || window <= 0 {
		return nil, fmt.Errorf("oauth: failure limit %d per %s is not positive", max, window)
	}
	return &FailureLimiter{rdb: rdb, base: prefix + "{oauth}:authfail:", max: int64(max), window: window}, nil
}

// failureKeys are the counter keys of one window ("" when not counted).
type failureKeys struct {
	id, ip, pair string
}

func (k failureKeys) list() []string {
	var out []string
	for _, s := range []string{k.id, k.ip, k.pair} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// keys returns the counter keys for the window containing now and the
// window's remaining time. The client id is hashed: it is caller-chosen
// text of any length.
func (l *FailureLimiter) keys(clientID, ip string, now time.Time) (failureKeys, time.Duration) {
	w := now.UnixMilli() / l.window.Milliseconds()
	suffix := ":" + strconv.FormatInt(w, 10)
	var k failureKeys
	if clientID != "" {
		sum := sha256.Sum256([]byte(clientID))
		k.id = l.base + "c:" + hex.EncodeToString(sum[:16]) + suffix
	}
	if ip != "" {
		k.ip = l.base + "i:" + ip + suffix
	}
	if clientID != "" && ip != "" {
		sum := sha256.Sum256([]byte(clientID + "\x00" + ip))
		k.pair = l.base + "ci:" + hex.EncodeToString(sum[:16]) + suffix
	}
	end := time.UnixMilli((w + 1) * l.window.Milliseconds())
	return k, end.Sub(now)
}

// Check reports whether a request for clientID from ip is refused at now
// (see FailureLimiter), and if so how long until the window ends.
func (l *FailureLimiter) Check(ctx context.Context, clientID, ip string, now time.Time) (time.Duration, bool, error) {
	k, left := l.keys(clientID, ip, now)
	if k.ip == "" && k.pair == "" {
		return 0, false, nil
	}
	// Absent counters read a key never written, in the same hash slot.
	none := l.base + "none"
	read := []string{k.id, k.ip, k.pair}
	for i := range read {
		if read[i] == "" {
			read[i] = none
		}
	}
	vals, err := l.rdb.MGet(ctx, read...).Result()
	if err != nil {
		return 0, false, fmt.Errorf("read authentication failures: %w", err)
	}
	n := make([]int64, len(vals))
	for i, v := range vals {
		s, _ := v.(string)
		n[i], _ = strconv.ParseInt(s, 10, 64)
	}
	idN, ipN, pairN := n[0], n[1], n[2]
	limited := (k.ip != "" && ipN >= AddressFactor*l.max) ||
		(k.pair != "" && pairN >= l.max) ||
		// The per-id ceiling only ever refuses an address that has itself
		// failed for this id: never the client id alone.
		(k.pair != "" && idN >= IDFactor*l.max && pairN >= 1)
	if limited {
		return left, true, nil
	}
	return 0, false, nil
}

// Fail records one failed authentication of clientID from ip at now.
func (l *FailureLimiter) Fail(ctx context.Context, clientID, ip string, now time.Time) error {
	k, left := l.keys(clientID, ip, now)
	keys := k.list()
	if len(keys) == 0 {
		return nil
	}
	cmds, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Incr(ctx, k)
			p.PExpire(ctx, k, left+time.Second)
		}
		return nil
	})
	err = redisfault.TxError(cmds, err)
	if err != nil {
		return fmt.Errorf("count authentication failure: %w", err)
	}
	return nil
}
