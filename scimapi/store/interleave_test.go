package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// splitHook runs the next pipeline of more than after commands in two
// parts, calling between after the first; with between nil it runs the
// first part only and fails the rest, as a connection lost mid-pipeline.
type splitHook struct {
	after   int
	armed   bool
	between func()
}

func (h *splitHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *splitHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *splitHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !h.armed || len(cmds) <= h.after {
			return next(ctx, cmds)
		}
		h.armed = false
		if err := next(ctx, cmds[:h.after]); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if h.between == nil {
			lost := errors.New("connection lost")
			for _, c := range cmds[h.after:] {
				c.SetErr(lost)
			}
			// as go-redis answers a pipeline: its first command's error
			for _, c := range cmds {
				if err := c.Err(); err != nil {
					return err
				}
			}
		}
		h.between()
		return next(ctx, cmds[h.after:])
	}
}

// ownClient returns a client of its own to r's server, closed when the
// test ends.
func ownClient(t *testing.T, r *redistest.Redis) *redis.Client {
	t.Helper()
	var o *redis.Options
	if r.Mini != nil {
		o = &redis.Options{Protocol: 2, Addr: r.Mini.Addr()}
	} else {
		o = r.Client.(*redis.Client).Options()
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// hooked returns a store on a client of its own to r's server with hook h,
// and a store writing through another client with document keys off.
func hooked(t *testing.T, r *redistest.Redis, h *splitHook) (st, hashWriter *store.Redis) {
	t.Helper()
	c := ownClient(t, r)
	c.AddHook(h)
	return store.NewRedis(c, r.Prefix), store.NewRedis(ownClient(t, r), r.Prefix).DocumentKeys(false)
}

// TestDocumentMovedMidRead: the reads that pipeline the hash and the
// document key (Doc, used by webhook deliveries, and the unanchored scan)
// find a resource whose document another gateway moves from its key back
// into its hash between the two commands, rather than reporting it
// missing.
func TestDocumentMovedMidRead(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		h := &splitHook{after: 1}
		st, hashWriter := hooked(t, r, h)
		attrs := entraUser(5)
		u, err := st.Create(ctx, store.TypeUser, attrs, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		move := func() {
			n++
			attrs["title"] = "moved " + strings.Repeat("i", n)
			if _, _, err := hashWriter.Update(ctx, store.TypeUser, u.ID, store.Condition{}, attrs, nil, nil); err != nil {
				t.Error(err)
			}
		}
		h.armed, h.between = true, move
		doc, v, err := st.Doc(ctx, store.TypeUser, u.ID)
		if err != nil || !strings.Contains(string(doc), `"moved i"`) || v != 2 {
			t.Fatalf("Doc across a move: %s v%d %v", doc, v, err)
		}
		// back into its key, then the scan
		attrs["title"] = "in its key"
		if _, _, err := st.Update(ctx, store.TypeUser, u.ID, store.Condition{}, attrs, nil, nil); err != nil {
			t.Fatal(err)
		}
		h.armed = true
		var found []string
		err = st.ScanDocs(ctx, store.TypeUser, 100, nil, func(_ int, rs []*store.Resource) (bool, error) {
			for _, r := range rs {
				found = append(found, r.ID+" "+r.Doc)
			}
			return true, nil
		})
		if err != nil || len(found) != 1 || !strings.Contains(found[0], `"moved ii"`) {
			t.Fatalf("scan across a move: %q %v", found, err)
		}
	})
}

// TestGetManyAcrossAMove: GetMany reads pages with plain pipelined
// commands; a resource whose document another gateway moves from its key
// into its hash between the hashes' HMGETs and the keys' MGET, and a user
// whose group is deleted between its SMEMBERS and the group names' HMGET,
// are read again with the script: in ids' order, neither missing nor with
// a group without its name.
func TestGetManyAcrossAMove(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		h := &splitHook{after: 2}
		st, hashWriter := hooked(t, r, h)
		var ids []string
		var attrs []map[string]any
		for i := range 2 {
			a := entraUser(10 + i)
			u, err := st.Create(ctx, store.TypeUser, a, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ids, attrs = append(ids, u.ID), append(attrs, a)
		}
		h.armed, h.between = true, func() {
			attrs[0]["title"] = "moved into the hash"
			if _, _, err := hashWriter.Update(ctx, store.TypeUser, ids[0], store.Condition{}, attrs[0], nil, nil); err != nil {
				t.Error(err)
			}
		}
		rs, err := st.GetMany(ctx, store.TypeUser, ids, store.ReadOptions{})
		if err != nil || len(rs) != 2 || rs[0].ID != ids[0] || rs[1].ID != ids[1] {
			t.Fatalf("GetMany across a move: %v %v", rs, err)
		}
		if !strings.Contains(rs[0].Doc, "moved into the hash") || rs[0].AttrVersion != 2 {
			t.Fatalf("moved user read as %s (attribute version %d)", rs[0].Doc, rs[0].AttrVersion)
		}

		g, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "Leaving"}, []store.Member{{Value: ids[1], Type: store.TypeUser}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := ownClient(t, r)
		c.AddHook(&onceHook{match: func(cmd redis.Cmder) bool {
			return cmd.Name() == "hmget" && strings.HasSuffix(fmt.Sprint(cmd.Args()[1]), "gname")
		},
			fn: func() {
				if err := hashWriter.Delete(ctx, store.TypeGroup, g.ID, 0, nil); err != nil {
					t.Error(err)
				}
			}})
		rs, err = store.NewRedis(c, r.Prefix).GetMany(ctx, store.TypeUser, ids, store.ReadOptions{Groups: true})
		if err != nil || len(rs) != 2 || rs[1].ID != ids[1] {
			t.Fatalf("GetMany across a group's deletion: %v %v", rs, err)
		}
		if len(rs[1].Groups) != 0 {
			t.Fatalf("user read with the deleted group: %+v", rs[1].Groups)
		}
	})
}

// TestPipelineFailureIsAnError: a read whose pipeline fails after its first
// commands (the connection lost) returns an error, although an earlier
// command's reply was redis.Nil (no document key: the document is in the
// hash), and the index backfill does not crash on the missing replies.
func TestPipelineFailureIsAnError(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		h := &splitHook{after: 2}
		st, hashWriter := hooked(t, r, h)
		var ids []string
		for i := range 3 {
			u, err := hashWriter.Create(ctx, store.TypeUser, entraUser(i), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		h.armed = true
		if _, err := st.Get(ctx, store.TypeUser, ids[0], store.ReadOptions{Groups: true}); err == nil {
			t.Fatal("Get with its groups' read lost: no error")
		}
		if err := st.EnableIndexes("emails.value"); err != nil {
			t.Fatal(err)
		}
		h.armed = true
		if err := st.Backfill(ctx, store.TypeUser); err == nil || !strings.Contains(err.Error(), "connection lost") {
			t.Fatalf("backfill with replies lost: %v", err)
		}
	})
}

// TestBackfillAfterAnotherCompleted: a Backfill that found an index
// incomplete, then took the lock only after another gateway's Backfill
// completed the index and released it, leaves the index marked complete
// (it used to mark it building again and redo it all, Lookup answering
// ErrIndexBuilding meanwhile: a flake of TestOptionalIndexTransitions).
func TestBackfillAfterAnotherCompleted(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		c := ownClient(t, r)
		late := store.NewRedis(c, r.Prefix)
		other := store.NewRedis(r.Client, r.Prefix)
		// other's Backfill runs just before late takes the lock
		// (SET ixlock:User NX); late marking an index building is seen
		c.AddHook(&onceHook{match: func(cmd redis.Cmder) bool {
			a := cmd.Args()
			key, _ := a[len(a)-1].(string)
			if len(a) > 1 {
				key, _ = a[1].(string)
			}
			return cmd.Name() == "set" && strings.Contains(key, "ixlock:")
		}, fn: func() {
			if err := other.Backfill(ctx, store.TypeUser); err != nil {
				t.Error(err)
			}
		}})
		var building atomic.Bool
		c.AddHook(&onceHook{match: func(cmd redis.Cmder) bool {
			a := cmd.Args()
			v, _ := a[len(a)-1].(string)
			return cmd.Name() == "hset" && strings.HasPrefix(v, "building ")
		}, fn: func() { building.Store(true) }})
		for _, st := range []*store.Redis{late, other} {
			if err := st.EnableIndexes("emails.value"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := other.Create(ctx, store.TypeUser, entraUser(1), nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := r.Client.HDel(ctx, late.KeyBase()+"ixready", "User:emails.value").Err(); err != nil {
			t.Fatal(err)
		}
		if err := late.Backfill(ctx, store.TypeUser); err != nil {
			t.Fatal(err)
		}
		if building.Load() {
			t.Fatal("the late Backfill marked the completed index as building again")
		}
		if v, _ := r.Client.HGet(ctx, late.KeyBase()+"ixready", "User:emails.value").Result(); v != "2" {
			t.Fatalf("marker after the late Backfill: %q, want complete", v)
		}
		if ids, err := late.Lookup(ctx, store.TypeUser, "emails.value", "user000001@contoso.com"); err != nil || len(ids) != 1 {
			t.Fatalf("lookup: %v %v", ids, err)
		}
	})
}

// TestBackfillLockOwnership: a Backfill whose lock expired and was taken
// by another run (a step that stalled past the lock's 30 s) stops with an
// error at its next renewal, and neither extends nor releases the other
// run's lock; one whose lock expired and is free takes it again and
// completes.
func TestBackfillLockOwnership(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		c := ownClient(t, r)
		st := store.NewRedis(c, r.Prefix)
		if err := st.EnableIndexes("emails.value"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Create(ctx, store.TypeUser, entraUser(1), nil, nil); err != nil {
			t.Fatal(err)
		}
		r.Client.HDel(ctx, st.KeyBase()+"ixready", "User:emails.value")
		lock := st.KeyBase() + "ixlock:User"
		c.AddHook(&onceHook{match: func(cmd redis.Cmder) bool {
			// the first renewal (EVALSHA of the lock script on the lock)
			a := cmd.Args()
			return strings.HasPrefix(cmd.Name(), "eval") && len(a) > 3 && a[3] == lock
		}, fn: func() {
			r.Client.Set(ctx, lock, "building another-run", 0)
		}})
		if err := st.Backfill(ctx, store.TypeUser); err == nil || !strings.Contains(err.Error(), "lock lost") {
			t.Fatalf("backfill whose lock was taken: %v", err)
		}
		if v, _ := r.Client.Get(ctx, lock).Result(); v != "building another-run" {
			t.Fatalf("the other run's lock after ours ended: %q", v)
		}
		if ttl, _ := r.Client.PTTL(ctx, lock).Result(); ttl > 0 {
			t.Fatalf("the other run's lock was given an expiry: %v", ttl)
		}

		// expired and free
		r.Client.Del(ctx, lock)
		c.AddHook(&onceHook{match: func(cmd redis.Cmder) bool {
			a := cmd.Args()
			return strings.HasPrefix(cmd.Name(), "eval") && len(a) > 3 && a[3] == lock
		}, fn: func() { r.Client.Del(ctx, lock) }})
		if err := st.Backfill(ctx, store.TypeUser); err != nil {
			t.Fatalf("backfill whose lock expired: %v", err)
		}
		if v, _ := r.Client.HGet(ctx, st.KeyBase()+"ixready", "User:emails.value").Result(); v != "2" {
			t.Fatalf("marker after a backfill whose lock expired: %q", v)
		}
		if n, _ := r.Client.Exists(ctx, lock).Result(); n != 0 {
			t.Fatal("lock kept after the backfill")
		}
	})
}
