package scimapi_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/roles"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestEntraLifecycleConsumerGroup plays an Entra-like lifecycle — create a
// user, add it to a group mapped to ADMIN, deactivate, reactivate, delete —
// and reads the change events the way an application does, through a
// consumer group: every event arrives once, in order, and names its audit
// event.
func TestEntraLifecycleConsumerGroup(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		m, err := roles.New(roles.Config{Mapping: "Engineering-Admins=ADMIN", Precedence: "ADMIN,USER", Default: "USER"})
		if err != nil {
			t.Fatal(err)
		}
		e := newEnvWith(t, r, func(o *scimapi.Options) { o.Roles = m })
		stream := store.EventsKey(r.Prefix)
		// The application creates its group before provisioning starts.
		if err := r.Client.XGroupCreateMkStream(ctx, stream, "app", "$").Err(); err != nil {
			t.Fatal(err)
		}

		uid := str(e.must(e.do("POST", "/scim/v2/Users", entraUser("life@example.com", "l-1")), 201).body["id"])
		gid := str(e.must(e.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "Engineering-Admins"}), 201).body["id"])
		e.must(e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": uid}}})), 204)
		e.must(e.do("PATCH", "/scim/v2/Users/"+uid, patchBody(map[string]any{"op": "Replace", "path": "active", "value": "False"})), 200)
		e.must(e.do("PATCH", "/scim/v2/Users/"+uid, patchBody(map[string]any{"op": "Replace", "path": "active", "value": "True"})), 200)
		e.must(e.do("DELETE", "/scim/v2/Users/"+uid, nil), 204)

		var got []string
		seen := map[string]bool{}
		for {
			res, err := r.Client.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "app", Consumer: "c1", Streams: []string{stream, ">"}, Count: 3, Block: -1}).Result()
			if err == redis.Nil || (err == nil && len(res[0].Messages) == 0) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, msg := range res[0].Messages {
				if seen[msg.ID] {
					t.Fatalf("event %s delivered twice", msg.ID)
				}
				seen[msg.ID] = true
				if msg.Values["audit_id"] == "" || msg.Values["id"] == "" {
					t.Errorf("event without resource or audit id: %v", msg.Values)
				}
				got = append(got, fmt.Sprint(msg.Values["type"]))
				if err := r.Client.XAck(ctx, stream, "app", msg.ID).Err(); err != nil {
					t.Fatal(err)
				}
			}
		}
		want := []string{
			"user.created", "user.role_changed", // role USER on creation
			"group.created",
			"group.member_added", "user.role_changed", // USER -> ADMIN
			"user.deactivated", "user.reactivated",
			"user.deleted", "group.member_removed",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("events\n got %v\nwant %v", got, want)
		}
		pending, err := r.Client.XPending(ctx, stream, "app").Result()
		if err != nil || pending.Count != 0 {
			t.Fatalf("pending after ack: %+v %v", pending, err)
		}
	})
}
