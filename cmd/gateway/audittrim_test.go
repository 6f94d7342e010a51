package main

import (
	"context"
	"testing"
	"time"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/redistest"
)

// TestAuditTrimCoversEveryDirectory: retention by age trims the default
// stream and every directory's own stream; with more directories than a
// run may take (perRun 2 of 3 here), the next run carries on where the
// last stopped, so every stream is trimmed within two runs, in pipelines of
// batch streams.
func TestAuditTrimCoversEveryDirectory(t *testing.T) {
	r := redistest.Mini(t)
	ctx := context.Background()
	reg, err := directory.NewRegistry(r.Client, r.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	events := audit.NewLog(r.Client, r.Prefix, 0)
	logs := []*audit.Log{events}
	for _, name := range []string{"a", "b", "c"} {
		d, err := reg.Create(ctx, directory.Directory{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, events.ForTag(r.Prefix, directory.Tag(d.ID)))
	}
	now := time.Now()
	for _, l := range logs {
		r.Mini.SetTime(now.Add(-48 * time.Hour))
		if err := l.Append(ctx, audit.Event{Action: audit.ClientCreated, Time: now.Add(-48 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		r.Mini.SetTime(now)
		if err := l.Append(ctx, audit.Event{Action: audit.ClientDeleted, Time: now}); err != nil {
			t.Fatal(err)
		}
	}
	counts := func() []int {
		var out []int
		for _, l := range logs {
			p, err := l.Query(ctx, audit.Query{})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, len(p.Events))
		}
		return out
	}
	trim := newAuditTrim(events, r.Prefix, reg.IDs)
	trim.batch, trim.perRun = 1, 2
	if err := trim.run(ctx, 24*time.Hour, now); err != nil {
		t.Fatal(err)
	}
	c := counts()
	trimmed := 0
	for _, n := range c[1:] {
		if n == 1 {
			trimmed++
		}
	}
	if c[0] != 1 || trimmed != 2 {
		t.Fatalf("after one run of at most 2 directories: events per stream %v, want the default and 2 directories trimmed", c)
	}
	if err := trim.run(ctx, 24*time.Hour, now); err != nil {
		t.Fatal(err)
	}
	for i, n := range counts() {
		if n != 1 {
			t.Fatalf("after two runs, stream %d holds %d events, want 1 (the recent one): %v", i, n, counts())
		}
	}
}
