package webhook

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestEventTimeBodyUnchanged: an entry whose "time" is unix nanoseconds
// (store.EventTime) is delivered with the body, byte for byte, of the same
// entry holding the RFC 3339 text earlier versions stored.
func TestEventTimeBodyUnchanged(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2026, 12, 2, 17, 13, 54, 554865609, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.FixedZone("CET", 3600)),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2300, 1, 1, 0, 0, 0, 5, time.UTC), // beyond int64 nanoseconds: stored as text
	} {
		text := at.UTC().Format(time.RFC3339Nano)
		body := func(timeField string) string {
			ev, err := EventFromMessage(redis.XMessage{ID: "5-1", Values: map[string]any{
				"type": "user.created", "resource_type": "User", "id": "u1", "audit_id": "5-0",
				"time": timeField, "version": "1", "changed": ""}})
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		stored := store.EventTime(at)
		if old, now := body(text), body(stored); old != now {
			t.Errorf("%s stored as %q:\n got %s\nwant %s", text, stored, now, old)
		}
		if got := store.EventTimeText(stored); got != text {
			t.Errorf("EventTimeText(%q) = %q, want %q", stored, got, text)
		}
	}
}

// TestStoreEventTimeDelivered: the store's write, delete and role scripts
// store the change events' time as unix nanoseconds, and the webhook
// delivers it as the RFC 3339 text of the resource's lastModified, as the
// entry held before.
func TestStoreEventTimeDelivered(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		rc := newReceiver(t, testSecret, nil)
		startWorker(t, r, testOptions(r, "a", rc.srv.URL+"/hook"))
		st := store.NewRedis(r.Client, r.Prefix)
		journal := func(action, event string) *store.Journal {
			return &store.Journal{Audit: audit.Event{Target: audit.Target{Type: store.TypeUser}}, DocAction: action, Event: event}
		}
		u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "ann"}, nil, journal(audit.UserProvisioned, "user.created"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SetRoles(ctx, map[string]string{u.ID: "admin"}, "", 0); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, store.TypeUser, u.ID, 0, journal(audit.UserDeleted, "user.deleted")); err != nil {
			t.Fatal(err)
		}
		msgs, err := r.Client.XRange(ctx, store.EventsKey(r.Prefix), "-", "+").Result()
		if err != nil || len(msgs) != 3 {
			t.Fatalf("%d events, %v", len(msgs), err)
		}
		got := rc.waitOK(3, 10*time.Second)
		for i, m := range msgs {
			raw, _ := m.Values["time"].(string)
			if _, err := time.Parse(time.RFC3339Nano, raw); err == nil {
				t.Errorf("event %d stored its time as text %q", i, raw)
			}
			text := got[i].Event.Time
			if _, err := time.Parse(time.RFC3339Nano, text); err != nil || text != store.EventTimeText(raw) {
				t.Errorf("event %d: stored %q, delivered %q", i, raw, text)
			}
		}
		if want := u.Modified.UTC().Format(time.RFC3339Nano); got[0].Event.Type != "user.created" || got[0].Event.Time != want {
			t.Errorf("creation delivered %s at %q, want the lastModified %q", got[0].Event.Type, got[0].Event.Time, want)
		}
	})
}
