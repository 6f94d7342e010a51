package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/scimapi/store/storetest"
)

// TestRedisConformance runs the conformance suite on miniredis and on the
// real Redis at SCIMGATE_TEST_REDIS_URL, with the optional indexes off (the
// default) and on, and with compact resources off.
func TestRedisConformance(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		for _, c := range []struct {
			indexes []string
			compact bool
		}{{nil, true}, {store.OptionalIndexes(), true}, {nil, false}} {
			t.Run(fmt.Sprintf("indexes=%d,compact=%v", len(c.indexes), c.compact), func(t *testing.T) {
				storetest.Run(t, func(t *testing.T) store.Store {
					sub := *r
					sub.Prefix = r.Prefix + t.Name() + ":"
					st := store.NewRedis(sub.Client, sub.Prefix).CompactResources(c.compact)
					if err := st.EnableIndexes(c.indexes...); err != nil {
						t.Fatal(err)
					}
					return st
				})
			})
		}
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

// evalKeysHook records the largest number of keys any script call named,
// and the most resource hashes one pipeline read (HMGETs).
type evalKeysHook struct{ max, hmgets atomic.Int64 }

func (h *evalKeysHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *evalKeysHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			if n, ok := cmd.Args()[2].(int); ok && int64(n) > h.max.Load() {
				h.max.Store(int64(n))
			}
		}
		return next(ctx, cmd)
	}
}
func (h *evalKeysHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		n := int64(0)
		for _, c := range cmds {
			if c.Name() == "hmget" {
				n++
			}
		}
		if n > h.hmgets.Load() {
			h.hmgets.Store(n)
		}
		return next(ctx, cmds)
	}
}

// TestReadsInBoundedSteps: GetMany and Scan never hand Redis one step
// (a pipeline of plain reads, or a script) over more than ReadBatch
// resources, whatever the caller asks for, so a large read holds the
// server for one short step at a time.
func TestReadsInBoundedSteps(t *testing.T) {
	ctx := context.Background()
	r := redistest.Mini(t)
	hook := &evalKeysHook{}
	r.Client.AddHook(hook)
	st := store.NewRedis(r.Client, r.Prefix)
	var ids []string
	for i := 0; i < store.ReadBatch+50; i++ {
		u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": fmt.Sprintf("b%d", i)}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	hook.max.Store(0)
	rs, err := st.GetMany(ctx, store.TypeUser, ids, store.ReadOptions{Groups: true})
	if err != nil || len(rs) != len(ids) {
		t.Fatalf("GetMany: %d of %d, %v", len(rs), len(ids), err)
	}
	seen := 0
	err = st.Scan(ctx, store.TypeUser, "", 1000, store.ReadOptions{}, func(rs []*store.Resource) (bool, error) {
		seen += len(rs)
		return true, nil
	})
	if err != nil || seen != len(ids) {
		t.Fatalf("Scan saw %d of %d: %v", seen, len(ids), err)
	}
	if m, p := hook.max.Load(), hook.hmgets.Load(); m > store.ReadBatch || p != store.ReadBatch {
		t.Fatalf("largest read script named %d keys, largest pipeline read %d hashes; want at most %d and %d", m, p, store.ReadBatch, store.ReadBatch)
	}
}

// TestLegacyExternalIdIndex: resources written when externalId was a unique
// index (hash u:<Type>:externalId, recorded in their "ix" field at the same
// KEYS position) are still found by externalId, lose that entry when their
// attributes are rewritten, and are deleted cleanly; no migration step.
func TestLegacyExternalIdIndex(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix)
		p := r.Prefix + "{scim}:"
		// legacy turns a freshly created resource into what the previous
		// version stored: the externalId in the unique hash, not the zset.
		legacy := func(typ, id, ext, ix string) {
			t.Helper()
			pipe := r.Client.TxPipeline()
			pipe.HSet(ctx, p+"r:"+id, "ix", ix)
			pipe.HSet(ctx, p+"u:"+typ+":externalId", ext, id)
			pipe.ZRem(ctx, p+"x:"+typ+":externalId", ext+"\x00"+id)
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		old, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "old", "externalId": "e1"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		legacy(store.TypeUser, old.ID, "e1", `[[3,"old",1,"userName"],[4,"e1",1,"externalId"]]`)
		g, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "G", "externalId": "g1"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		legacy(store.TypeGroup, g.ID, "g1", `[[3,"g1",1,"externalId"],[4,"g",0,"displayName"]]`)

		lookup := func(typ, v string) []string {
			t.Helper()
			ids, err := st.Lookup(ctx, typ, "externalId", v)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(ids)
			return ids
		}
		if got := lookup(store.TypeUser, "e1"); !slices.Equal(got, []string{old.ID}) {
			t.Fatalf("legacy user not found: %v", got)
		}
		if got := lookup(store.TypeGroup, "g1"); !slices.Equal(got, []string{g.ID}) {
			t.Fatalf("legacy group not found: %v", got)
		}
		// A new user may share the legacy user's externalId; both are found.
		u2, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "new", "externalId": "e1"}, nil, nil)
		if err != nil {
			t.Fatalf("duplicate externalId beside a legacy entry: %v", err)
		}
		want := []string{old.ID, u2.ID}
		slices.Sort(want)
		if got := lookup(store.TypeUser, "e1"); !slices.Equal(got, want) {
			t.Fatalf("lookup = %v, want %v", got, want)
		}
		// Rewriting the legacy user's attributes moves it to the new index.
		if _, _, err := st.Update(ctx, store.TypeUser, old.ID, store.Condition{}, map[string]any{"userName": "old", "externalId": "e2"}, nil, nil); err != nil {
			t.Fatal(err)
		}
		if got := lookup(store.TypeUser, "e1"); !slices.Equal(got, []string{u2.ID}) {
			t.Fatalf("after rewrite e1 = %v", got)
		}
		if got := lookup(store.TypeUser, "e2"); !slices.Equal(got, []string{old.ID}) {
			t.Fatalf("after rewrite e2 = %v", got)
		}
		if n, _ := r.Client.HLen(ctx, p+"u:User:externalId").Result(); n != 0 {
			t.Fatalf("legacy hash keeps %d entries", n)
		}
		// Deleting a legacy group drops its legacy entry and its displayName.
		if err := st.Delete(ctx, store.TypeGroup, g.ID, 0, nil); err != nil {
			t.Fatal(err)
		}
		if got := lookup(store.TypeGroup, "g1"); len(got) != 0 {
			t.Fatalf("deleted legacy group found: %v", got)
		}
		if ids, _ := st.Lookup(ctx, store.TypeGroup, "displayName", "g"); len(ids) != 0 {
			t.Fatalf("deleted legacy group's displayName found: %v", ids)
		}
	})
}

// TestIndexFieldsReadableByPreviousVersion: during a rolling upgrade the
// previous version rewrites and deletes resources the new one wrote. It
// reads only the "ix" field and has KEYS [r, all, u:<Type>:<first index>,
// <second index>, audit, events]; so "ix" must name only those index
// positions with their old kinds, and the new externalId entry lives in
// "ix2".
func TestIndexFieldsReadableByPreviousVersion(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix)
		p := r.Prefix + "{scim}:"
		u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "Ann", "externalId": "e"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		g, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "G", "externalId": "e"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string][2]string{
			u.ID: {`[[3,"ann",1]]`, `[[5,"e",0]]`},
			g.ID: {`[[4,"g",0]]`, `[[5,"e",0]]`},
		} {
			got, err := r.Client.HMGet(ctx, p+"r:"+id, "ix", "ix2").Result()
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != want[0] || got[1] != want[1] {
				t.Errorf("ix, ix2 = %v, want %v", got, want)
			}
		}
		// Without an externalId there is no ix2; removing it drops ix2.
		if _, _, err := st.Update(ctx, store.TypeUser, u.ID, store.Condition{}, map[string]any{"userName": "Ann"}, nil, nil); err != nil {
			t.Fatal(err)
		}
		if n, _ := r.Client.HExists(ctx, p+"r:"+u.ID, "ix2").Result(); n {
			t.Error("ix2 kept after externalId was removed")
		}
		if ids, _ := st.Lookup(ctx, store.TypeUser, "externalId", "e"); len(ids) != 0 {
			t.Errorf("removed externalId still found: %v", ids)
		}
	})
}
