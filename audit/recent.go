package audit

import (
	"context"
	"fmt"
	"slices"
)

// Last returns up to n of the newest events matching q's filters (not its
// time range or cursor), oldest first, and the id to Tail from after them
// ("$" when the stream is empty). It reads at most 10 000 entries.
func (l *Log) Last(ctx context.Context, n int, q Query) ([]Event, string, error) {
	const scan = 10_000
	var out []Event
	last := "$"
	end := "+"
	for read := 0; read < scan && len(out) < n; {
		msgs, err := l.c.XRevRangeN(ctx, l.key, end, "-", 500).Result()
		if err != nil {
			return nil, "", fmt.Errorf("audit: read newest: %w", err)
		}
		if len(msgs) > 0 && last == "$" {
			last = msgs[0].ID
		}
		for _, m := range msgs {
			if e, ok := Decode(m); ok && q.Matches(e) && len(out) < n {
				out = append(out, e)
			}
		}
		read += len(msgs)
		if len(msgs) < 500 {
			break
		}
		end = "(" + msgs[len(msgs)-1].ID
	}
	slices.Reverse(out)
	return out, last, nil
}

// Newest returns the newest event for which match reports true, reading
// at most scan entries from the end of the stream (the first read asks for
// one entry only, so a stream whose newest entry matches costs one
// XREVRANGE COUNT 1). ok is false when none of them matches.
func (l *Log) Newest(ctx context.Context, scan int, match func(Event) bool) (e Event, ok bool, err error) {
	end, batch := "+", int64(1)
	for read := 0; read < scan; {
		batch = min(batch, int64(scan-read))
		msgs, err := l.c.XRevRangeN(ctx, l.key, end, "-", batch).Result()
		if err != nil {
			return Event{}, false, fmt.Errorf("audit: read newest: %w", err)
		}
		for _, m := range msgs {
			if e, ok := Decode(m); ok && match(e) {
				return e, true, nil
			}
		}
		if int64(len(msgs)) < batch {
			break
		}
		read += len(msgs)
		end = "(" + msgs[len(msgs)-1].ID
		batch = 200
	}
	return Event{}, false, nil
}
