package webhook

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// addDirEvent appends a change event to directory id's stream the way the
// store's scripts do and returns its entry id.
func addDirEvent(t *testing.T, r *redistest.Redis, id, res string) string {
	t.Helper()
	eid, err := r.Client.XAdd(context.Background(), &redis.XAddArgs{
		Stream: store.TaggedEventsKey(r.Prefix, directory.Tag(id)),
		Values: []any{"type", "user.updated", "resource_type", "User", "id", res, "audit_id", "0-1", "time", time.Now().UTC().Format(time.RFC3339)},
	}).Result()
	if err != nil {
		t.Fatal(err)
	}
	return eid
}

// byDirectory groups accepted deliveries as "<resource id>@<delivery id>"
// per directory id, in arrival order, checking each names its directory.
func byDirectory(t *testing.T, reqs []request, names map[string]string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, q := range reqs {
		d := q.Event.Directory
		if names[d.ID] == "" || d.Name != names[d.ID] {
			t.Fatalf("delivery %s names directory %+v", q.Event.DeliveryID, d)
		}
		out[d.ID] = append(out[d.ID], q.Event.ID+"@"+q.Event.DeliveryID)
	}
	return out
}

// TestSupervisorDeliversEveryDirectory: two directories besides the
// default one; a subscriber for all of them gets every directory's events
// with the right directory, in order per directory; a subscriber limited
// to one directory (by name) gets only that one's; a directory created
// after the start is delivered from its first event within a few seconds;
// a deleted directory's worker stops. Keys sit in each directory's slot.
func TestSupervisorDeliversEveryDirectory(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		reg, err := directory.NewRegistry(r.Client, r.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		acme, err := reg.Create(ctx, directory.Directory{Name: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		globex, err := reg.Create(ctx, directory.Directory{Name: "globex"})
		if err != nil {
			t.Fatal(err)
		}
		all := newReceiver(t, testSecret, nil)
		one := newReceiver(t, testSecret, nil)
		o := testOptions(r, "a", all.srv.URL)
		only, err := NewSubscriber(one.srv.URL + "/acme")
		if err != nil {
			t.Fatal(err)
		}
		only.Directories = []string{"ACME"}
		o.Subscribers = append(o.Subscribers, only)
		o.ListInterval = 100 * time.Millisecond
		o.PollInterval = 20 * time.Millisecond
		sup, err := NewSupervisor(r.Client, o, reg.List)
		if err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithCancel(ctx)
		if err := sup.Start(sctx); err != nil {
			cancel()
			t.Fatal(err)
		}
		t.Cleanup(func() { cancel(); sup.Wait() })

		names := map[string]string{directory.DefaultID: directory.DefaultID, acme.ID: "acme", globex.ID: "globex"}
		want := map[string][]string{}
		for i := range 10 {
			for _, id := range []string{directory.DefaultID, acme.ID, globex.ID} {
				res := fmt.Sprintf("u%d", i)
				want[id] = append(want[id], res+"@"+addDirEvent(t, r, id, res))
			}
		}
		got := byDirectory(t, all.waitOK(30, 5*time.Second), names)
		for id, w := range want {
			if !slices.Equal(got[id], w) {
				t.Fatalf("directory %s (%s):\n got %v\nwant %v", names[id], id, got[id], w)
			}
		}
		got = byDirectory(t, one.waitOK(10, 5*time.Second), names)
		if len(got) != 1 || !slices.Equal(got[acme.ID], want[acme.ID]) {
			t.Fatalf("limited subscriber got %v, want only acme's %v", got, want[acme.ID])
		}

		// The lease and the consumer groups are in acme's slot; the default
		// directory keeps the keys of the releases before directories.
		tag := directory.Tag(acme.ID)
		if n := r.Client.Exists(ctx, leaseKey(r.Prefix, tag, only.Name), leaseKey(r.Prefix, store.DefaultTag, o.Subscribers[0].Name)).Val(); n != 2 {
			t.Fatalf("%d of acme's and the default directory's leases exist, want 2", n)
		}
		if n := r.Client.Exists(ctx, leaseKey(r.Prefix, directory.Tag(globex.ID), only.Name)).Val(); n != 0 {
			t.Fatal("the acme-only subscriber holds a lease on globex")
		}

		// A directory created after the start, written to at once (before
		// the next listing): its first events are not lost.
		initech, err := reg.Create(ctx, directory.Directory{Name: "initech"})
		if err != nil {
			t.Fatal(err)
		}
		names[initech.ID] = "initech"
		var late []string
		for i := range 3 {
			res := fmt.Sprintf("n%d", i)
			late = append(late, res+"@"+addDirEvent(t, r, initech.ID, res))
		}
		got = byDirectory(t, all.waitOK(3, 3*time.Second), names)
		if !slices.Equal(got[initech.ID], late) {
			t.Fatalf("new directory: got %v, want %v", got, late)
		}
		one.quiet(200 * time.Millisecond)

		// Deleting a directory stops its worker.
		if err := reg.Remove(ctx, globex.ID); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(3 * time.Second)
		for slices.Contains(sup.Directories(), globex.ID) {
			if time.Now().After(deadline) {
				t.Fatalf("globex still delivered: %v", sup.Directories())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if d := sup.Directories(); len(d) != 3 || !slices.Contains(d, initech.ID) {
			t.Fatalf("delivering %v", d)
		}
	})
}

// TestSupervisorCap: past MaxDirectories, further directories are not
// delivered (and the cap is logged), the others are.
func TestSupervisorCap(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		reg, err := directory.NewRegistry(r.Client, r.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"a1", "a2", "a3"} {
			if _, err := reg.Create(ctx, directory.Directory{Name: n}); err != nil {
				t.Fatal(err)
			}
		}
		rc := newReceiver(t, testSecret, nil)
		o := testOptions(r, "a", rc.srv.URL)
		o.MaxDirectories = 2
		sup, err := NewSupervisor(r.Client, o, reg.List)
		if err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithCancel(ctx)
		defer func() { cancel(); sup.Wait() }()
		if err := sup.Start(sctx); err != nil {
			t.Fatal(err)
		}
		if d := sup.Directories(); len(d) != 2 || !slices.Contains(d, directory.DefaultID) {
			t.Fatalf("delivering %v, want the default directory and one other", d)
		}
	})
}

func TestSubscriberWants(t *testing.T) {
	s := Subscriber{Directories: []string{"Acme", "0b5e3a56-52a4-4a4a-9d3c-1f0b7a3e2c11"}}
	for _, c := range []struct {
		id, name string
		want     bool
	}{
		{"x", "acme", true},
		{"0b5e3a56-52a4-4a4a-9d3c-1f0b7a3e2c11", "renamed", true},
		{"default", "default", false},
	} {
		if got := s.Wants(c.id, c.name); got != c.want {
			t.Errorf("Wants(%s, %s) = %v", c.id, c.name, got)
		}
	}
	if !(Subscriber{}).Wants("default", "default") {
		t.Error("an unlimited subscriber does not want the default directory")
	}
}
