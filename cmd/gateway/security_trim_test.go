package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/redistest"
)

func TestTrimAuditDropsOldEvents(t *testing.T) {
	r := redistest.Mini(t)
	events := audit.NewLog(r.Client, r.Prefix, 0)
	ctx := context.Background()
	r.Mini.SetTime(time.Now().Add(-48 * time.Hour))
	if err := events.Append(ctx, audit.Event{Action: audit.ClientCreated}); err != nil {
		t.Fatal(err)
	}
	r.Mini.SetTime(time.Now())
	if err := events.Append(ctx, audit.Event{Action: audit.ClientDeleted}); err != nil {
		t.Fatal(err)
	}
	// One trim at start, then trimAudit waits for its ticker or its context.
	stopped, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() {
		trimAudit(stopped, newAuditTrim(events, r.Prefix, nil), 24*time.Hour, slog.New(slog.DiscardHandler))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("trimAudit did not stop with its context")
	}
	page, err := events.Query(ctx, audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].Action != audit.ClientDeleted {
		t.Errorf("after trimming to 24h: %+v", page.Events)
	}
}
