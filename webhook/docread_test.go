package webhook

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestDataReadAtDelivery: the store's change events carry the version and
// the changed attribute names, not the document; the worker adds the
// resource's attributes as stored when it delivers, and none once the
// resource is deleted.
func TestDataReadAtDelivery(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix)
		j := func(event string, changed ...string) *store.Journal {
			return &store.Journal{Event: event, DocAction: "X", Audit: audit.Event{Changed: changed}}
		}
		u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "ann", "title": "a"}, nil, j("user.created", "title", "userName"))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.Update(ctx, store.TypeUser, u.ID, store.Condition{}, map[string]any{"userName": "ann", "title": "b"}, nil, j("user.updated", "title")); err != nil {
			t.Fatal(err)
		}
		gone, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "bob"}, nil, j("user.created", "userName"))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, store.TypeUser, gone.ID, 0, j("user.deleted")); err != nil {
			t.Fatal(err)
		}
		// The worker starts after the writes, from the stream's start: the
		// first event is delivered with the attributes of version 2.
		rc := newReceiver(t, testSecret, func(context.Context, int, Event) int { return 204 })
		o := testOptions(r, "a", rc.srv.URL+"/hook")
		if err := o.defaults(); err != nil {
			t.Fatal(err)
		}
		w := newWorker(r.Client, o, o.Subscribers, DirectoryRef{ID: directory.DefaultID}, "0")
		wctx, cancel := context.WithCancel(ctx)
		if err := w.Start(wctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cancel(); w.Wait() })
		got := rc.waitOK(4, 10*time.Second)
		type want struct {
			typ     string
			version int64
			changed []string
			title   any
		}
		for i, w := range []want{{"user.created", 1, nil, "b"}, {"user.updated", 2, []string{"title"}, "b"},
			{"user.created", 1, nil, nil}, {"user.deleted", 0, nil, nil}} {
			ev := got[i].Event
			var data map[string]any
			if ev.Data != nil {
				if err := json.Unmarshal(ev.Data, &data); err != nil {
					t.Fatal(err)
				}
			}
			if ev.Type != w.typ || ev.Version != w.version || !slices.Equal(ev.Changed, w.changed) || data["title"] != w.title {
				t.Errorf("event %d: %s v%d changed %v data %s; want %+v", i, ev.Type, ev.Version, ev.Changed, ev.Data, w)
			}
		}
		if got[2].Event.Data != nil {
			t.Errorf("deleted user delivered with data %s", got[2].Event.Data)
		}
	})
}
