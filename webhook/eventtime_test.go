package webhook

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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
