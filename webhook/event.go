package webhook

import (
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"
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
	// Data is the resource's attributes after the change (creates and
	// attribute changes); absent for deletes and member events.
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
		Time:         str("time"),
		Member:       str("member"),
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
