package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/redistest"
)

// TestFailuresAggregatePerMinuteWithCap: 1,000 failures from 300 networks
// in one minute become at most cap+1 events, appended once the minute has
// closed, whose counts add up to every failure.
func TestFailuresAggregatePerMinuteWithCap(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		l := audit.NewLog(r.Client, r.Prefix, 0)
		f := audit.NewFailures(r.Client, r.Prefix, l, 10)
		start := time.Date(2030, 1, 1, 10, 0, 5, 0, time.UTC)
		var wg sync.WaitGroup
		errs := make(chan error, 1000)
		for w := range 10 {
			wg.Go(func() {
				for i := w; i < 1000; i += 10 {
					errs <- f.Record(ctx, audit.Failure{
						Network: fmt.Sprintf("192.0.2.%d", i%300), Reason: "unknown token", Route: audit.RouteSCIM,
						Method: "static_token", RequestID: fmt.Sprintf("req-%d", i), Time: start.Add(time.Duration(i) * 10 * time.Millisecond),
					})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if p, _ := l.Query(ctx, audit.Query{}); len(p.Events) != 0 {
			t.Fatalf("%d events before the minute closed", len(p.Events))
		}
		// Two replicas flushing at once: one takes the minute.
		var fw sync.WaitGroup
		for range 2 {
			fw.Go(func() {
				if err := f.Flush(ctx, start.Add(time.Minute)); err != nil {
					t.Error(err)
				}
			})
		}
		fw.Wait()
		p, err := l.Query(ctx, audit.Query{Action: audit.AuthFailed, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) != 11 {
			t.Fatalf("%d events, want cap 10 + other", len(p.Events))
		}
		var total int64
		others := 0
		for _, e := range p.Events {
			total += e.Count
			if e.First == nil || e.Last == nil || e.Last.Before(*e.First) || e.First.Before(start) || !e.Time.Equal(*e.Last) {
				t.Errorf("first/last of %+v", e)
			}
			if e.Outcome != audit.OutcomeFailure || e.Route == "" && e.Network != audit.OtherNetwork {
				t.Errorf("event %+v", e)
			}
			if e.Network == audit.OtherNetwork {
				others++
				continue
			}
			if e.SourceIP != e.Network || e.Reason != "unknown token" || e.Actor.AuthMethod != "static_token" || e.RequestID == "" {
				t.Errorf("aggregate %+v", e)
			}
		}
		if total != 1000 || others != 1 {
			t.Errorf("counts add up to %d (want 1000), %d other aggregates", total, others)
		}
		// A failure in the next minute goes into a fresh aggregate.
		if err := f.Record(ctx, audit.Failure{Network: "2001:db8::/64", Reason: "x", Route: audit.RouteOAuth, ClientID: "c1", Time: start.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if err := f.Flush(ctx, start.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		p, _ = l.Query(ctx, audit.Query{Client: "c1"})
		if len(p.Events) != 1 || p.Events[0].Count != 1 || p.Events[0].SourceIP != "" || p.Events[0].Target.ID != "c1" {
			t.Fatalf("next minute: %+v", p.Events)
		}
	})
}

// TestFailuresLateClockJoinsOpenMinute: a replica whose clock is behind
// adds to the open minute instead of closing it.
func TestFailuresLateClockJoinsOpenMinute(t *testing.T) {
	r := redistest.Mini(t)
	ctx := context.Background()
	l := audit.NewLog(r.Client, r.Prefix, 0)
	f := audit.NewFailures(r.Client, r.Prefix, l, 0)
	now := time.Date(2030, 1, 1, 10, 5, 0, 0, time.UTC)
	for _, at := range []time.Time{now, now.Add(-time.Minute)} {
		if err := f.Record(ctx, audit.Failure{Network: "192.0.2.1", Reason: "r", Time: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Flush(ctx, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	p, _ := l.Query(ctx, audit.Query{})
	if len(p.Events) != 1 || p.Events[0].Count != 2 {
		t.Fatalf("events %+v", p.Events)
	}
}
