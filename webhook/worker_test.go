package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

var testSecret = []byte("test-webhook-secret-0123456789")

// testOptions are fast timings for tests.
func testOptions(r *redistest.Redis, consumer string, urls ...string) Options {
	o := Options{
		Prefix:         r.Prefix,
		Secret:         testSecret,
		MaxAttempts:    5,
		BackoffInitial: 5 * time.Millisecond,
		BackoffMax:     20 * time.Millisecond,
		Timeout:        5 * time.Second,
		Consumer:       consumer,
		LeaseTTL:       400 * time.Millisecond,
		Block:          200 * time.Millisecond,
		Log:            slog.New(slog.DiscardHandler),
	}
	for _, u := range urls {
		s, err := NewSubscriber(u)
		if err != nil {
			panic(err)
		}
		o.Subscribers = append(o.Subscribers, s)
	}
	return o
}

// startWorker starts a worker and returns its stop function (also run at
// cleanup; stopping twice is harmless).
func startWorker(t *testing.T, r *redistest.Redis, o Options) func() {
	t.Helper()
	w, err := New(r.Client, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := w.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	stop := func() { cancel(); w.Wait() }
	t.Cleanup(stop)
	return stop
}

// addEvent appends a change event the way the store's scripts do and
// returns its entry id.
func addEvent(t *testing.T, r *redistest.Redis, typ, id string, data map[string]any) string {
	t.Helper()
	vals := []any{"type", typ, "resource_type", "User", "id", id, "audit_id", "0-1", "time", time.Now().UTC().Format(time.RFC3339)}
	if data != nil {
		raw, _ := json.Marshal(data)
		vals = append(vals, "data", string(raw))
	}
	eid, err := r.Client.XAdd(context.Background(), &redis.XAddArgs{Stream: store.EventsKey(r.Prefix), Values: vals}).Result()
	if err != nil {
		t.Fatal(err)
	}
	return eid
}

func pending(t *testing.T, r *redistest.Redis, sub string) int64 {
	t.Helper()
	p, err := r.Client.XPending(context.Background(), store.EventsKey(r.Prefix), GroupName(sub)).Result()
	if err != nil {
		t.Fatal(err)
	}
	return p.Count
}

// waitAcked waits until sub's group has no pending entries: the worker
// acknowledges a moment after the receiver answered.
func waitAcked(t *testing.T, r *redistest.Redis, sub string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for pending(t, r, sub) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d entries still pending after 5s", pending(t, r, sub))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ids(reqs []request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Event.DeliveryID)
	}
	return out
}

func checkSignatures(t *testing.T, reqs []request) {
	t.Helper()
	for _, r := range reqs {
		if r.SigErr != nil {
			t.Errorf("delivery %s attempt %d: signature: %v", r.Event.DeliveryID, r.Attempt, r.SigErr)
		}
	}
}

// TestRetryThenDeliver: the receiver fails the first two deliveries, the
// third succeeds; the signature verifies; the next event waits for the
// first; nothing is delivered again after success, not even by a new
// worker.
func TestRetryThenDeliver(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		rc := newReceiver(t, testSecret, func(_ context.Context, attempt int, ev Event) int {
			if ev.ID == "u1" && attempt <= 2 {
				return http.StatusInternalServerError
			}
			return http.StatusNoContent
		})
		o := testOptions(r, "a", rc.srv.URL+"/hook")
		stop := startWorker(t, r, o)
		e1 := addEvent(t, r, "user.deactivated", "u1", map[string]any{"userName": "ann", "active": false})
		e2 := addEvent(t, r, "user.updated", "u2", map[string]any{"userName": "bob"})

		got := rc.waitOK(2, 10*time.Second)
		if fmt.Sprint(ids(got)) != fmt.Sprint([]string{e1, e2}) {
			t.Fatalf("accepted %v, want %v", ids(got), []string{e1, e2})
		}
		if got[0].Attempt != 3 || got[1].Attempt != 1 {
			t.Fatalf("accepted on attempts %d and %d, want 3 and 1", got[0].Attempt, got[1].Attempt)
		}
		ev := got[0].Event
		if ev.Type != "user.deactivated" || ev.ResourceType != "User" || ev.AuditID != "0-1" || ev.Time == "" ||
			!strings.Contains(string(ev.Data), `"active":false`) {
			t.Fatalf("payload %+v data %s", ev, ev.Data)
		}
		// A new worker must not send the acknowledged events again.
		stop()
		startWorker(t, r, testOptions(r, "b", rc.srv.URL+"/hook"))
		rc.quiet(3 * o.LeaseTTL)

		reqs := rc.requests()
		checkSignatures(t, reqs)
		var order []string
		for _, q := range reqs {
			order = append(order, fmt.Sprintf("%s/%d/%d", q.Event.ID, q.Attempt, q.Status))
		}
		if want := "[u1/1/500 u1/2/500 u1/3/204 u2/1/204]"; fmt.Sprint(order) != want {
			t.Fatalf("requests %v, want %s", order, want)
		}
		if n := pending(t, r, o.Subscribers[0].Name); n != 0 {
			t.Fatalf("%d entries still pending", n)
		}
		if n := r.Client.XLen(context.Background(), DLQKey(r.Prefix, o.Subscribers[0].Name)).Val(); n != 0 {
			t.Fatalf("%d dead letters", n)
		}
	})
}

// TestDeadLetter: after MaxAttempts failures the entry goes to the
// dead-letter stream with its body and last error, is acknowledged, and
// the next event is delivered.
func TestDeadLetter(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		rc := newReceiver(t, testSecret, func(_ context.Context, _ int, ev Event) int {
			if ev.ID == "bad" {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		})
		o := testOptions(r, "a", rc.srv.URL)
		o.MaxAttempts = 3
		startWorker(t, r, o)
		e1 := addEvent(t, r, "user.created", "bad", map[string]any{"userName": "x"})
		e2 := addEvent(t, r, "user.created", "good", map[string]any{"userName": "y"})
		if got := rc.waitOK(1, 10*time.Second); got[0].Event.DeliveryID != e2 {
			t.Fatalf("delivered %s, want %s", got[0].Event.DeliveryID, e2)
		}
		reqs := rc.requests()
		if len(reqs) != 4 || reqs[2].Event.DeliveryID != e1 || reqs[2].Attempt != 3 || reqs[3].Event.DeliveryID != e2 {
			t.Fatalf("requests %v", ids(reqs))
		}
		sub := o.Subscribers[0].Name
		dl, err := r.Client.XRange(context.Background(), DLQKey(r.Prefix, sub), "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(dl) != 1 {
			t.Fatalf("%d dead letters, want 1", len(dl))
		}
		v := dl[0].Values
		if v["delivery_id"] != e1 || v["attempts"] != "3" || v["subscriber"] != sub ||
			!strings.Contains(fmt.Sprint(v["error"]), "503") || v["failed_at"] == "" {
			t.Fatalf("dead letter %v", v)
		}
		var ev Event
		if err := json.Unmarshal([]byte(fmt.Sprint(v["body"])), &ev); err != nil || ev.ID != "bad" || ev.DeliveryID != e1 {
			t.Fatalf("dead-letter body %v (%v)", v["body"], err)
		}
		waitAcked(t, r, sub)
		rc.quiet(200 * time.Millisecond)
	})
}

// TestMalformedEntryDeadLettered: an entry that is not a change event
// cannot be delivered; it is dead-lettered without a request and does not
// block the stream.
func TestMalformedEntryDeadLettered(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		rc := newReceiver(t, testSecret, nil)
		o := testOptions(r, "a", rc.srv.URL)
		startWorker(t, r, o)
		r.Client.XAdd(context.Background(), &redis.XAddArgs{Stream: store.EventsKey(r.Prefix), Values: []any{"type", "user.created", "data", "{nope"}})
		e2 := addEvent(t, r, "user.created", "ok", nil)
		if got := rc.waitOK(1, 10*time.Second); got[0].Event.DeliveryID != e2 {
			t.Fatalf("delivered %s, want %s", got[0].Event.DeliveryID, e2)
		}
		if n := r.Client.XLen(context.Background(), DLQKey(r.Prefix, o.Subscribers[0].Name)).Val(); n != 1 {
			t.Fatalf("%d dead letters, want 1", n)
		}
	})
}
