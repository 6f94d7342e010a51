package audit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// TrimTagged drops events older than maxAge from the audit streams of the
// directories whose keys carry the hash tags tags (see ForTag), in one
// pipeline (split by node on a Cluster). A stream that does not exist is
// left alone (XTRIM creates nothing).
func (l *Log) TrimTagged(ctx context.Context, prefix string, tags []string, maxAge time.Duration, now time.Time) error {
	if len(tags) == 0 {
		return nil
	}
	minID := strconv.FormatInt(now.Add(-maxAge).UnixMilli(), 10) + "-0"
	_, err := l.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, t := range tags {
			p.XTrimMinIDApprox(ctx, TaggedKey(prefix, t), minID, 0)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit: trim %d directory streams: %w", len(tags), err)
	}
	return nil
}
