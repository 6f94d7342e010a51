package scimapi_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/scimapi/store"
)

// testAuditAndEvents checks that every SCIM write leaves exactly one audit
// event and its change events, that writes which change nothing or fail
// leave none, and that deactivation is its own event.
func testAuditAndEvents(t *testing.T, e *env) {
	ctx := context.Background()
	log := audit.NewLog(e.redis.Client, e.redis.Prefix, 0)
	uid := str(e.must(e.do("POST", "/scim/v2/Users", entraUser("aud@example.com", "a-1"), "X-Request-ID", "req-create"), 201).body["id"])
	e.must(e.do("PATCH", "/scim/v2/Users/"+uid, patchBody(map[string]any{"op": "Replace", "path": "active", "value": "False"})), 200)
	e.must(e.do("PATCH", "/scim/v2/Users/"+uid, patchBody(map[string]any{"op": "replace", "path": "active", "value": false})), 200) // no change
	wantError(t, e.do("PATCH", "/scim/v2/Users/"+uid, patchBody(map[string]any{"op": "replace", "path": "nosuch", "value": 1})), 400, "invalidPath")
	wantError(t, e.do("POST", "/scim/v2/Users", entraUser("AUD@example.com", "a-2")), 409, "uniqueness")
	e.must(e.do("PATCH", "/scim/v2/Users/"+uid, patchBody(map[string]any{"op": "replace", "value": map[string]any{"active": true, "title": "Dr"}})), 200)
	gid := str(e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "Auditors"}), 201).body["id"])
	e.must(e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uid}}})), 204)
	e.must(e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "replace", "path": "displayName", "value": "Auditors 2"})), 204)
	e.must(e.do("DELETE", "/scim/v2/Users/"+uid, nil), 204)

	page, err := log.Query(ctx, audit.Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range page.Events {
		actions = append(actions, ev.Action)
		if ev.Actor.ClientID != "test" || ev.Actor.AuthMethod != "static_token" || ev.Outcome != "success" || ev.Time.IsZero() || ev.Target.ID == "" {
			t.Errorf("incomplete event %+v", ev)
		}
	}
	want := []string{audit.UserProvisioned, audit.UserDeprovisioned, audit.UserReactivated, audit.GroupCreated,
		audit.GroupMembershipChanged, audit.GroupSynced, audit.UserDeleted}
	if !slices.Equal(actions, want) {
		t.Fatalf("audit actions\n got %v\nwant %v", actions, want)
	}
	first := page.Events[0]
	if first.RequestID != "req-create" || first.Target.Name != "aud@example.com" || first.Target.Type != "User" || !slices.Contains(first.Changed, "userName") {
		t.Fatalf("create event %+v", first)
	}
	if ch := slices.Sorted(slices.Values(page.Events[2].Changed)); !slices.Equal(ch, []string{"active", "title"}) {
		t.Fatalf("reactivation changed %v", ch)
	}
	if ch := page.Events[4].Changed; !slices.Equal(ch, []string{"members"}) {
		t.Fatalf("membership changed %v", ch)
	}
	for _, ev := range page.Events {
		for _, c := range ev.Changed {
			if c == "password" {
				t.Fatalf("password named in audit: %+v", ev)
			}
		}
	}

	msgs, err := e.redis.Client.XRange(ctx, store.EventsKey(e.redis.Prefix), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	auditIDs := map[string]bool{}
	for _, ev := range page.Events {
		auditIDs[ev.ID] = true
	}
	for _, m := range msgs {
		types = append(types, fmt.Sprint(m.Values["type"]))
		if !auditIDs[fmt.Sprint(m.Values["audit_id"])] {
			t.Errorf("event %v names no audit event", m.Values)
		}
	}
	wantTypes := []string{"user.created", "user.deactivated", "user.reactivated", "group.created", "group.member_added", "group.updated", "user.deleted", "group.member_removed"}
	if !slices.Equal(types, wantTypes) {
		t.Fatalf("events\n got %v\nwant %v", types, wantTypes)
	}
}
