package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/directory"
)

// Audit retention by age covers every directory's stream in bounded steps.
const (
	// trimBatch is how many directory streams one pipeline trims.
	trimBatch = 100
	// trimPerRun is how many directory streams one run trims at most; the
	// next run goes on after the last one trimmed, so with more
	// directories than this a full round takes several runs.
	trimPerRun = 1000
)

// auditTrim trims the audit streams by age: the default directory's
// stream (which also holds the admin and credential events) on every run,
// and up to perRun other directories' streams, in pipelines of batch,
// taking the registry's directories in id order and carrying on from where
// the previous run stopped.
type auditTrim struct {
	events *audit.Log
	prefix string
	// ids lists the other directories' ids, sorted (nil: none).
	ids           func(context.Context) ([]string, error)
	batch, perRun int
	// after is the last directory id trimmed ("" = start from the first).
	after string
}

func newAuditTrim(events *audit.Log, prefix string, ids func(context.Context) ([]string, error)) *auditTrim {
	return &auditTrim{events: events, prefix: prefix, ids: ids, batch: trimBatch, perRun: trimPerRun}
}

// run is one step: the default stream, then the next directories.
func (t *auditTrim) run(ctx context.Context, maxAge time.Duration, now time.Time) error {
	if err := t.events.Trim(ctx, maxAge, now); err != nil {
		return err
	}
	if t.ids == nil {
		return nil
	}
	ids, err := t.ids(ctx)
	if err != nil {
		return fmt.Errorf("audit retention: list directories: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	start := sort.SearchStrings(ids, t.after)
	if start < len(ids) && ids[start] == t.after {
		start++
	}
	n := min(t.perRun, len(ids))
	for done := 0; done < n; {
		tags := make([]string, 0, min(t.batch, n-done))
		last := ""
		for ; done < n && len(tags) < t.batch; done++ {
			last = ids[(start+done)%len(ids)]
			tags = append(tags, directory.Tag(last))
		}
		if err := t.events.TrimTagged(ctx, t.prefix, tags, maxAge, now); err != nil {
			return err
		}
		t.after = last
	}
	return nil
}
