package webhook

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestBackoff(t *testing.T) {
	initial, most := 100*time.Millisecond, time.Second
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 40: time.Second} {
		for range 200 {
			if d := backoff(n, initial, most); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, d, want/2, want)
			}
		}
	}
}

func TestNewSubscriber(t *testing.T) {
	a, err := NewSubscriber("https://app.example.com:8443/hooks/scim?k=v")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Name, "app.example.com_8443-") || len(a.Name) != len("app.example.com_8443-")+8 {
		t.Fatalf("name %q", a.Name)
	}
	b, _ := NewSubscriber("https://app.example.com:8443/hooks/other")
	if a.Name == b.Name {
		t.Fatal("two URLs on one host share a name")
	}
	again, _ := NewSubscriber("https://app.example.com:8443/hooks/scim?k=v")
	if again.Name != a.Name || again.URL != a.URL {
		t.Fatal("name is not stable")
	}
	for _, bad := range []string{"ftp://x/y", "/relative", "https://", "://"} {
		if _, err := NewSubscriber(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEventFromMessage(t *testing.T) {
	ev, err := EventFromMessage(redis.XMessage{ID: "1-0", Values: map[string]any{
		"type": "group.member_added", "resource_type": "Group", "id": "g", "audit_id": "1-1", "time": "t", "member": "u"}})
	if err != nil || ev.DeliveryID != "1-0" || ev.Member != "u" || ev.Data != nil || ev.ResourceType != "Group" {
		t.Fatalf("%+v %v", ev, err)
	}
	if _, err := EventFromMessage(redis.XMessage{ID: "2-0"}); err == nil {
		t.Fatal("trimmed entry (no fields) accepted")
	}
	if _, err := EventFromMessage(redis.XMessage{ID: "3-0", Values: map[string]any{"type": "user.created", "data": "{"}}); err == nil {
		t.Fatal("invalid data accepted")
	}
}

func TestOptionsRefuse(t *testing.T) {
	sub, _ := NewSubscriber("http://h/x")
	for name, o := range map[string]Options{
		"no subscribers": {Secret: []byte("k")},
		"no secret":      {Subscribers: []Subscriber{sub}},
		"duplicate":      {Subscribers: []Subscriber{sub, sub}, Secret: []byte("k")},
	} {
		if _, err := New(nil, o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
