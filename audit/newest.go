package audit

import (
	"context"
	"fmt"
	"strconv"
)

// DefaultNewestScan bounds the stream entries one QueryNewest call reads.
const DefaultNewestScan = 10_000

// QueryNewest returns the events matching q, newest first: up to q.Limit
// (default 100, at most 1000) older than the event q.Cursor names (from
// a previous page's Next) and within q's time range. It reads the stream
// backwards in batches of at most 500 and stops after scan entries
// (DefaultNewestScan when scan <= 0), so a filter that matches rarely
// cannot make one page read the whole stream; such a page may be short,
// and its Next continues where the reading stopped. Next is "" when the
// stream's start (or q.Since) was reached.
func (l *Log) QueryNewest(ctx context.Context, q Query, scan int) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	if scan <= 0 {
		scan = DefaultNewestScan
	}
	end := "+"
	if !q.Until.IsZero() {
		end = strconv.FormatInt(q.Until.UnixMilli(), 10)
	}
	if q.Cursor != "" {
		if !validID(q.Cursor) {
			return Page{}, ErrBadCursor
		}
		end = "(" + q.Cursor
	}
	start := "-"
	if !q.Since.IsZero() {
		start = strconv.FormatInt(q.Since.UnixMilli(), 10)
	}
	var p Page
	last := "" // the id of the last entry examined
	for read := 0; ; {
		batch := int64(min(500, scan-read))
		msgs, err := l.c.XRevRangeN(ctx, l.key, end, start, batch).Result()
		if err != nil {
			return Page{}, fmt.Errorf("audit: read newest: %w", err)
		}
		for _, m := range msgs {
			e, ok := Decode(m)
			if ok && q.Matches(e) {
				if len(p.Events) == q.Limit {
					p.Next = last
					return p, nil
				}
				p.Events = append(p.Events, e)
			}
			last = m.ID
		}
		read += len(msgs)
		if int64(len(msgs)) < batch {
			return p, nil // the start of the range
		}
		end = "(" + last
		if read >= scan {
			p.Next = last
			return p, nil
		}
	}
}
