package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// RecommendedListpackValue is the hash-max-listpack-value the store's
// resource hashes want: a resource's hash holds its JSON (typically 200 to
// 600 bytes), and with a value longer than hash-max-listpack-value (Redis's
// default is 64) Redis keeps the hash as a hash table instead of a compact
// listpack, about 0.5 KB more per typical user (BenchmarkMemoryPerUser).
const RecommendedListpackValue = 1024

// ListpackAdvice reads the server's hash-max-listpack-value and returns a
// warning for the operator when it is below RecommendedListpackValue ("":
// none). It returns an error when it cannot tell (CONFIG refused, as on
// some managed services, or Redis out of reach); the caller then says
// nothing. With a Cluster client the answer is one node's.
func ListpackAdvice(ctx context.Context, c redis.UniversalClient) (string, error) {
	kv, err := c.ConfigGet(ctx, "hash-max-listpack-value").Result()
	if err != nil {
		return "", fmt.Errorf("store: read hash-max-listpack-value: %w", err)
	}
	v, ok := kv["hash-max-listpack-value"]
	if !ok {
		return "", fmt.Errorf("store: the server has no hash-max-listpack-value (Redis before 7)")
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return "", fmt.Errorf("store: hash-max-listpack-value %q: %w", v, err)
	}
	if n >= RecommendedListpackValue {
		return "", nil
	}
	return fmt.Sprintf("Redis has hash-max-listpack-value %d: a SCIM resource whose JSON is longer is stored as a hash table, "+
		"about 0.5 KB more per user than with %d (set it in redis.conf or the service's parameters; see deploy/README.md)",
		n, RecommendedListpackValue), nil
}
