package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/scimapi/store/storetest"
)

// TestRedisConformance runs the conformance suite on miniredis and on the
// real Redis at SCIMGATE_TEST_REDIS_URL.
func TestRedisConformance(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		storetest.Run(t, func(t *testing.T) store.Store {
			sub := *r
			sub.Prefix = r.Prefix + t.Name() + ":"
			return store.NewRedis(sub.Client, sub.Prefix)
		})
	})
}

// TestSoftDelete: a soft-deleted resource disappears from SCIM (reads,
// indexes, memberships) and frees its userName, but stays stored until the
// purge job drops it.
func TestSoftDelete(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix).SoftDelete()
		u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "gone"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		g, _ := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "g"}, []store.Member{{Value: u.ID}}, nil)
		if err := st.Delete(ctx, store.TypeUser, u.ID, 0, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Get(ctx, store.TypeUser, u.ID, store.ReadOptions{}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("soft-deleted user readable: %v", err)
		}
		if ids, _ := st.Lookup(ctx, store.TypeUser, "userName", "gone"); len(ids) != 0 {
			t.Fatalf("soft-deleted user indexed: %v", ids)
		}
		if gr, _ := st.Get(ctx, store.TypeGroup, g.ID, store.ReadOptions{Members: true}); len(gr.Members) != 0 {
			t.Fatalf("soft-deleted user still a member")
		}
		if _, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "gone"}, nil, nil); err != nil {
			t.Fatalf("userName not freed: %v", err)
		}
		kept := r.Prefix + "{scim}:deleted:" + u.ID
		if doc, _ := r.Client.HGet(ctx, kept, "doc").Result(); !strings.Contains(doc, `"gone"`) {
			t.Fatalf("soft-deleted record not kept: %q", doc)
		}
		if n, err := st.PurgeDeleted(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Fatalf("purge of recent deletions: %d %v", n, err)
		}
		if n, err := st.PurgeDeleted(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
		if n, _ := r.Client.Exists(ctx, kept).Result(); n != 0 {
			t.Fatal("purged record still stored")
		}
	})
}
