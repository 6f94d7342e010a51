package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redisfault"
)

// ErrListpackUnknown is Read's error when the server will not tell its
// hash-max-listpack-value (CONFIG refused, as on some managed services,
// or a Redis before 7, which has none): asking again will not help.
var ErrListpackUnknown = errors.New("store: the server does not tell its hash-max-listpack-value")

// DefaultListpackValue is Redis's default hash-max-listpack-value: a hash
// holding a longer field or value is kept as a hash table, not a compact
// listpack.
const DefaultListpackValue = 64

// RecommendedListpackValue is the hash-max-listpack-value the store's
// resource hashes want: with it a resource's hash keeps its JSON (typically
// 200 to 600 bytes) and stays a listpack, about 0.2 KB per typical user
// less than its JSON in a key of its own (DocumentKeys), which a lower
// value makes the store use (BenchmarkMemoryPerUser).
const RecommendedListpackValue = 1024

// ListpackValue is the hash-max-listpack-value of the Redis that the stores
// sharing it write to, as far as they know it: DefaultListpackValue until
// Read learns the server's. With document keys on, a write keeps a
// resource's document in its hash only when the hash then stays a
// listpack (see Redis.Listpack). The zero value and nil are ready to use.
type ListpackValue struct{ n atomic.Int64 }

// Get returns the value known.
func (l *ListpackValue) Get() int {
	if l == nil {
		return DefaultListpackValue
	}
	if n := l.n.Load(); n > 0 {
		return int(n)
	}
	return DefaultListpackValue
}

// Read reads the server's hash-max-listpack-value, keeps it, and returns
// it. It returns an error when it cannot tell (CONFIG refused, as on some
// managed services, or Redis out of reach), and l keeps what it knew.
// With a Cluster client the answer is one node's.
func (l *ListpackValue) Read(ctx context.Context, c redis.UniversalClient) (int, error) {
	kv, err := c.ConfigGet(ctx, "hash-max-listpack-value").Result()
	var reply redis.Error
	if k := redisfault.Classify(err); errors.As(err, &reply) && (k == redisfault.None || k == redisfault.NoPerm) {
		// a refusal (unknown or renamed command, no permission), not a
		// passing state of the server (LOADING, BUSY, …)
		return 0, fmt.Errorf("%w: %w", ErrListpackUnknown, err)
	}
	if err != nil {
		return 0, fmt.Errorf("store: read hash-max-listpack-value: %w", err)
	}
	v, ok := kv["hash-max-listpack-value"]
	if !ok {
		return 0, fmt.Errorf("%w (none: Redis before 7)", ErrListpackUnknown)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: hash-max-listpack-value %q is not a count", ErrListpackUnknown, v)
	}
	l.n.Store(int64(max(n, 1)))
	return n, nil
}

// Learn reads the server's hash-max-listpack-value (Read), each attempt
// within timeout, and while Redis is out of reach or not ready tries again
// every retry, until it is known, the server will not tell
// (ErrListpackUnknown), the client is closed, or ctx ends; it returns
// Read's last answer.
func (l *ListpackValue) Learn(ctx context.Context, c redis.UniversalClient, timeout, retry time.Duration) (int, error) {
	for {
		actx, cancel := context.WithTimeout(ctx, timeout)
		n, err := l.Read(actx, c)
		cancel()
		if err == nil || errors.Is(err, ErrListpackUnknown) || redisfault.Classify(err) == redisfault.Closed {
			return n, err
		}
		select {
		case <-ctx.Done():
			return 0, err
		case <-time.After(retry):
		}
	}
}

// ListpackAdvice returns a warning for the operator when the server's
// hash-max-listpack-value n is below RecommendedListpackValue ("": none).
func ListpackAdvice(n int) string {
	if n >= RecommendedListpackValue {
		return ""
	}
	return fmt.Sprintf("Redis has hash-max-listpack-value %d: a SCIM resource whose JSON is longer is stored in a key of its own "+
		"(or, with scim.document_keys off, in a hash table), about 0.2 KB (0.5 KB) more per user than with %d "+
		"(set it in redis.conf or the service's parameters; see deploy/README.md)",
		n, RecommendedListpackValue)
}
