package webhook

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/scimapi/store"
)

// Event is the JSON body POSTed to a subscriber: one change-event stream
// entry.
type Event struct {
	// DeliveryID is the stream entry id: the same for every attempt and
	// every redelivery of the entry, so receivers deduplicate on it.
	DeliveryID   string `json:"delivery_id"`
	Type         string `json:"type"`
	ResourceType string `json:"resource_type"`
	ID           string `json:"id"`
	AuditID      string `json:"audit_id"`
	Time         string `json:"time"`
	// Version is the resource's version after the change (creates and
	// attribute changes).
	Version int64 `json:"version,omitempty"`
	// Changed names the changed attributes of an attribute change.
	Changed []string `json:"changed,omitempty"`
	// Data is the resource's attributes (creates and attribute changes):
	// read by the worker at delivery time, so they may be of a later
	// version than Version; absent when the resource no longer exists,
	// for deletes and member events. For user.role_changed it is
	// {"old_role","role"}.
	Data json.RawMessage `json:"data,omitempty"`
	// Member is the member id of group.member_added / group.member_removed.
	Member string `json:"member,omitempty"`
	// Directory is the directory the change happened in: its id
	// ("default" for the default directory) and its name when delivered.
	Directory DirectoryRef `json:"directory"`
}

// EventFromMessage decodes one change-event stream entry.
func EventFromMessage(m redis.XMessage) (Event, error) {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	ev := Event{
		DeliveryID:   m.ID,
		Type:         str("type"),
		ResourceType: str("resource_type"),
		ID:           str("id"),
		AuditID:      str("audit_id"),
		Time:         store.EventTimeText(str("time")),
		Member:       str("member"),
	}
	ev.Version, _ = strconv.ParseInt(str("version"), 10, 64)
	if c := str("changed"); c != "" {
		ev.Changed = strings.Split(c, ",")
	}
	if ev.Type == "" {
		return ev, fmt.Errorf("stream entry %s has no type", m.ID)
	}
	if d := str("data"); d != "" {
		if !json.Valid([]byte(d)) {
			return ev, fmt.Errorf("stream entry %s: data is not JSON", m.ID)
		}
		ev.Data = json.RawMessage(d)
	}
	return ev, nil
}

// readsDoc reports whether ev is an attribute event whose stream entry
// carries a version but no document: the worker adds the resource's
// current attributes (Data) at delivery.
func (ev Event) readsDoc() bool {
	return ev.Data == nil && ev.Version > 0 && ev.ID != "" &&
		(ev.ResourceType == store.TypeUser || ev.ResourceType == store.TypeGroup)
}
