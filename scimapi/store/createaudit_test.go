package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestCreateAuditRecords: a creation records the one audit record that
// applies — attributes only for a resource without members, attributes
// and members for a group created with members — and its reply carries the
// stored document.
func TestCreateAuditRecords(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix)
		journal := func(action, name string) *store.Journal {
			return &store.Journal{Audit: audit.Event{Target: audit.Target{Type: "x", Name: name}, Changed: []string{"displayName"}},
				DocAction: action, MemberAction: audit.GroupMembershipChanged, Event: "x.created"}
		}
		u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "u<1>", "displayName": "U \u2028"}, nil, journal(audit.UserProvisioned, "u"))
		if err != nil {
			t.Fatal(err)
		}
		if u.Doc != `{"displayName":"U \u2028","userName":"u\u003c1\u003e"}` || u.Attrs["userName"] != "u<1>" || u.Version != 1 {
			t.Fatalf("created user %+v", u)
		}
		if got, err := st.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{}); err != nil || got.Doc != u.Doc {
			t.Fatalf("stored user %+v, %v; want document %s", got, err, u.Doc)
		}
		g, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "g"}, []store.Member{{Value: u.ID}}, journal(audit.GroupCreated, "g"))
		if err != nil {
			t.Fatal(err)
		}
		page, err := audit.NewLog(r.Client, r.Prefix, 0).Query(ctx, audit.Query{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 2 {
			t.Fatalf("audit events %+v", page.Events)
		}
		for i, want := range []struct {
			id, action string
			changed    []string
		}{{u.ID, audit.UserProvisioned, []string{"displayName"}}, {g.ID, audit.GroupCreated, []string{"displayName", "members"}}} {
			ev := page.Events[i]
			if ev.Target.ID != want.id || ev.Action != want.action || !slices.Equal(ev.Changed, want.changed) || ev.Outcome != audit.OutcomeSuccess {
				t.Errorf("audit event %d = %+v, want %+v", i, ev, want)
			}
		}
		got, err := st.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{Groups: true})
		if err != nil || len(got.Groups) != 1 || got.Groups[0].Value != g.ID {
			t.Fatalf("user after group creation %+v, %v", got, err)
		}
	})
}
