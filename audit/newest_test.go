package audit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/redistest"
)

// newestIDs walks every page of QueryNewest and returns the target ids.
func newestIDs(t *testing.T, l *audit.Log, q audit.Query, scan int) (ids []string, pages int) {
	t.Helper()
	for {
		p, err := l.QueryNewest(context.Background(), q, scan)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(p.Events) > q.Limit || pages > 100 {
			t.Fatalf("page %d has %d events (limit %d)", pages, len(p.Events), q.Limit)
		}
		for _, e := range p.Events {
			ids = append(ids, e.Target.ID)
		}
		if p.Next == "" {
			return ids, pages
		}
		q.Cursor = p.Next
	}
}

func TestQueryNewestPagesBackwards(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		l := audit.NewLog(r.Client, r.Prefix, 0)
		t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		var all, users []string
		for i := range 1200 {
			action := audit.ClientCreated
			if i%100 == 0 {
				action = audit.UserProvisioned
			}
			id := fmt.Sprint(i)
			if err := l.Append(ctx, audit.Event{Time: t0.Add(time.Duration(i) * time.Second), Action: action,
				Target: audit.Target{ID: id}, Outcome: audit.OutcomeSuccess}); err != nil {
				t.Fatal(err)
			}
			all = append(all, id)
			if action == audit.UserProvisioned {
				users = append(users, id)
			}
		}
		slices.Reverse(all)
		slices.Reverse(users)

		ids, pages := newestIDs(t, l, audit.Query{Limit: 50}, 0)
		if !slices.Equal(ids, all) || pages != 24 {
			t.Fatalf("newest first: %d ids in %d pages, first %v", len(ids), pages, ids[:3])
		}
		// Pages of exactly the remaining events: the last one has no Next.
		ids, pages = newestIDs(t, l, audit.Query{Limit: 600}, 0)
		if !slices.Equal(ids, all) || pages != 2 {
			t.Fatalf("2 pages of 600: %d ids in %d pages", len(ids), pages)
		}
		// A rare filter with a small scan budget: short pages, nothing lost.
		ids, pages = newestIDs(t, l, audit.Query{Action: audit.UserProvisioned, Limit: 5}, 300)
		if !slices.Equal(ids, users) || pages < 4 {
			t.Fatalf("filtered with scan 300: %v in %d pages, want %v", ids, pages, users)
		}
		// Since (on the stream ids, the append times) bounds the walk.
		ids, _ = newestIDs(t, l, audit.Query{Since: time.Now().Add(time.Hour), Limit: 4}, 0)
		if len(ids) != 0 {
			t.Fatalf("since in an hour: %v", ids)
		}
		if _, err := l.QueryNewest(ctx, audit.Query{Cursor: "x"}, 0); !errors.Is(err, audit.ErrBadCursor) {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}
