package webhook

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// acceptedOnce checks that every id in want was accepted exactly once and
// in want's order.
func acceptedOnce(t *testing.T, rc *receiver, want []string) {
	t.Helper()
	var got []string
	for _, q := range rc.requests() {
		if q.Status/100 == 2 {
			got = append(got, q.Event.DeliveryID)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("accepted (in order)\n got %v\nwant %v", got, want)
	}
}

// TestRestartDeliversPending stops a worker while a delivery hangs, writes
// more events while no worker runs, and starts a new worker: every event
// is delivered once, in order, the interrupted one included.
func TestRestartDeliversPending(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		hanging := make(chan struct{})
		var want []string
		rc := newReceiver(t, testSecret, func(ctx context.Context, attempt int, ev Event) int {
			if ev.ID == "u5" && attempt == 1 {
				close(hanging)
				<-ctx.Done() // until the worker's attempt times out
				return http.StatusGatewayTimeout
			}
			return http.StatusOK
		})
		o := testOptions(r, "a", rc.srv.URL)
		o.Timeout = 300 * time.Millisecond
		stop := startWorker(t, r, o)
		for i := 1; i <= 10; i++ {
			want = append(want, addEvent(t, r, "user.updated", fmt.Sprintf("u%d", i), map[string]any{"n": i}))
		}
		<-hanging
		stop() // mid-way: u1..u4 delivered, u5 in flight, u6..u10 unread or pending
		for i := 11; i <= 15; i++ {
			want = append(want, addEvent(t, r, "user.updated", fmt.Sprintf("u%d", i), map[string]any{"n": i}))
		}
		if got := len(rc.requests()); got != 5 {
			t.Fatalf("%d requests before the restart, want 5 (u1..u5)", got)
		}
		startWorker(t, r, testOptions(r, "b", rc.srv.URL))
		rc.waitOK(15, 10*time.Second)
		waitAcked(t, r, o.Subscribers[0].Name)
		rc.quiet(100 * time.Millisecond)
		acceptedOnce(t, rc, want)
		checkSignatures(t, rc.requests())
	})
}

// TestCrashedHolderTakenOver plays a replica that crashed while holding the
// lease with entries pending: a new worker waits for the lease to expire,
// claims the pending entries and delivers everything once, in order.
func TestCrashedHolderTakenOver(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		rc := newReceiver(t, testSecret, nil)
		o := testOptions(r, "b", rc.srv.URL)
		sub := o.Subscribers[0]
		w, err := New(r.Client, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.ensureGroup(ctx, sub); err != nil {
			t.Fatal(err)
		}
		var want []string
		for i := 1; i <= 6; i++ {
			want = append(want, addEvent(t, r, "user.updated", fmt.Sprintf("u%d", i), nil))
		}
		// The crashed replica "dead" read four entries and still holds the lease.
		res, err := r.Client.XReadGroup(ctx, &redis.XReadGroupArgs{Group: GroupName(sub.Name), Consumer: "dead",
			Streams: []string{store.EventsKey(r.Prefix), ">"}, Count: 4}).Result()
		if err != nil || len(res[0].Messages) != 4 {
			t.Fatalf("read as the dead replica: %v %v", res, err)
		}
		if err := r.Client.Set(ctx, leaseKey(r.Prefix, store.DefaultTag, sub.Name), "dead", o.LeaseTTL).Err(); err != nil {
			t.Fatal(err)
		}
		started := time.Now()
		startWorker(t, r, o)
		rc.quiet(o.LeaseTTL / 2) // the lease is still held
		if r.Mini != nil {
			r.Mini.FastForward(o.LeaseTTL) // miniredis expires keys only on FastForward
		}
		got := rc.waitOK(6, 10*time.Second)
		if wait := got[0].At.Sub(started); wait < o.LeaseTTL/2 {
			t.Fatalf("delivered %s after start, while the dead replica's lease was valid", wait)
		}
		waitAcked(t, r, sub.Name)
		rc.quiet(100 * time.Millisecond)
		acceptedOnce(t, rc, want)
	})
}

// TestTwoReplicas runs two workers on one stream: each event is delivered
// once and in order; when one stops, the other carries on.
func TestTwoReplicas(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		rc := newReceiver(t, testSecret, nil)
		oa, ob := testOptions(r, "a", rc.srv.URL), testOptions(r, "b", rc.srv.URL)
		stopA := startWorker(t, r, oa)
		startWorker(t, r, ob)
		var want []string
		for i := range 50 {
			want = append(want, addEvent(t, r, "user.updated", fmt.Sprintf("u%d", i), nil))
		}
		rc.waitOK(50, 10*time.Second)
		stopA()
		for i := 50; i < 60; i++ {
			want = append(want, addEvent(t, r, "user.updated", fmt.Sprintf("u%d", i), nil))
		}
		rc.waitOK(10, 10*time.Second)
		waitAcked(t, r, oa.Subscribers[0].Name)
		rc.quiet(100 * time.Millisecond)
		acceptedOnce(t, rc, want)
		if n := len(rc.requests()); n != 60 {
			t.Fatalf("%d requests for 60 events", n)
		}
	})
}

// TestSubscribersIndependent: a subscriber that keeps failing does not
// delay another.
func TestSubscribersIndependent(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		down := newReceiver(t, testSecret, func(context.Context, int, Event) int { return http.StatusBadGateway })
		up := newReceiver(t, testSecret, nil)
		o := testOptions(r, "a", down.srv.URL, up.srv.URL)
		o.BackoffInitial, o.BackoffMax, o.MaxAttempts = time.Hour, time.Hour, 2
		startWorker(t, r, o)
		e := addEvent(t, r, "user.deactivated", "u1", map[string]any{"active": false})
		if got := up.waitOK(1, 5*time.Second); got[0].Event.DeliveryID != e {
			t.Fatalf("delivered %s, want %s", got[0].Event.DeliveryID, e)
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(down.requests()) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := len(down.requests()); n != 1 {
			t.Fatalf("failing subscriber got %d requests, want 1 (then backing off)", n)
		}
		if n := pending(t, r, o.Subscribers[0].Name); n != 1 {
			t.Fatalf("failing subscriber has %d pending entries, want 1", n)
		}
	})
}
