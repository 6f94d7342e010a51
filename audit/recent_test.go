package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/redistest"
)

// TestNewestFindsTheNewestMatchWithinTheScan: the newest matching event is
// found behind newer non-matching ones, but not beyond the scan bound.
func TestNewestFindsTheNewestMatchWithinTheScan(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		l := audit.NewLog(r.Client, r.Prefix, 0)
		scimWrite := func(e audit.Event) bool { return strings.HasPrefix(e.Action, "SCIM_") }
		if _, ok, err := l.Newest(ctx, 10, scimWrite); err != nil || ok {
			t.Fatalf("empty stream: ok=%t err=%v", ok, err)
		}
		t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := l.Append(ctx, audit.Event{Time: t0, Action: audit.UserProvisioned, Target: audit.Target{ID: "u1"}, Outcome: audit.OutcomeSuccess}); err != nil {
			t.Fatal(err)
		}
		for i := range 250 {
			if err := l.Append(ctx, audit.Event{Time: t0.Add(time.Duration(i+1) * time.Second), Action: audit.ClientCreated,
				Target: audit.Target{ID: fmt.Sprint(i)}, Outcome: audit.OutcomeSuccess}); err != nil {
				t.Fatal(err)
			}
		}
		e, ok, err := l.Newest(ctx, 1000, scimWrite)
		if err != nil || !ok || e.Target.ID != "u1" || !e.Time.Equal(t0) || e.ID == "" {
			t.Fatalf("newest SCIM write: %+v ok=%t err=%v", e, ok, err)
		}
		if _, ok, _ := l.Newest(ctx, 250, scimWrite); ok {
			t.Fatal("found an event beyond the scan bound")
		}
		e, ok, err = l.Newest(ctx, 1, func(audit.Event) bool { return true })
		if err != nil || !ok || e.Target.ID != "249" {
			t.Fatalf("newest event: %+v ok=%t err=%v", e, ok, err)
		}
	})
}
