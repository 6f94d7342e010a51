package directory

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// PurgeBatch is how many keys one SCAN step asks for and one UNLINK
// removes: the work Redis does per round trip when a directory's data is
// deleted.
const PurgeBatch = 500

// Purge deletes every key carrying directory id's hash tag under prefix:
// its resources, indexes, audit and change-event streams. It SCANs in
// steps of PurgeBatch and UNLINKs each step's keys (Redis frees them in
// the background), so the work per round trip is bounded whatever the
// directory's size. On a Cluster it scans every master (only the one
// holding the tag's slot has keys). It returns the number of keys removed.
// The default directory's data is never purged this way.
func Purge(ctx context.Context, rdb redis.UniversalClient, prefix, id string) (int64, error) {
	if id == DefaultID || !ValidID(id) {
		return 0, fmt.Errorf("directory %q: %w", id, ErrDefault)
	}
	match := globEscape(prefix+"{"+Tag(id)+"}:") + "*"
	var total atomic.Int64
	scan := func(ctx context.Context, c redis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, match, PurgeBatch).Result()
			if err != nil {
				return fmt.Errorf("purge directory %s: scan: %w", id, err)
			}
			if len(keys) > 0 {
				n, err := c.Unlink(ctx, keys...).Result()
				if err != nil {
					return fmt.Errorf("purge directory %s: unlink: %w", id, err)
				}
				total.Add(n)
			}
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, rdb)
	}
	return total.Load(), err
}

// globEscape escapes the characters SCAN MATCH treats as patterns.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
