package store_test

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestGetEqualsReadScript: Get of one resource (plain commands in one
// transaction) returns exactly what the read script returns for it inside
// a GetMany of several, for users in groups, deleted and soft-deleted
// resources, the wrong type, raw reads and roles.
func TestGetEqualsReadScript(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix).SoftDelete()
		mk := func(typ string, attrs map[string]any, members ...store.Member) *store.Resource {
			t.Helper()
			res, err := st.Create(ctx, typ, attrs, members, nil)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		alone := mk(store.TypeUser, map[string]any{"userName": "alone"})
		member := mk(store.TypeUser, map[string]any{"userName": "member"})
		gone := mk(store.TypeUser, map[string]any{"userName": "gone"})
		g1 := mk(store.TypeGroup, map[string]any{"displayName": "g1"}, store.Member{Value: member.ID})
		g2 := mk(store.TypeGroup, map[string]any{"displayName": "g2"}, store.Member{Value: member.ID}, store.Member{Value: g1.ID})
		if _, err := st.SetRoles(ctx, map[string]string{member.ID: "admin"}, "", 0); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, store.TypeUser, gone.ID, 0, nil); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			typ, id string
		}{
			{store.TypeUser, alone.ID}, {store.TypeUser, member.ID}, {store.TypeUser, gone.ID},
			{store.TypeGroup, member.ID}, {store.TypeUser, "no-such-id"}, {store.TypeGroup, g1.ID},
		}
		for _, c := range cases {
			for _, ro := range []store.ReadOptions{{}, {Groups: true}, {Groups: true, RawOnly: true}} {
				// Two ids make GetMany use the read script.
				many, err := st.GetMany(ctx, c.typ, []string{c.id, g2.ID}, ro)
				if err != nil {
					t.Fatal(err)
				}
				var want *store.Resource
				if len(many) > 0 && many[0].ID == c.id && c.id != g2.ID {
					want = many[0]
				}
				got, err := st.Get(ctx, c.typ, c.id, ro)
				if want == nil {
					if err != store.ErrNotFound {
						t.Fatalf("Get %s %s %+v: %v %v, want not found", c.typ, c.id, ro, got, err)
					}
					continue
				}
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("Get %s %s %+v:\n got %+v %v\nwant %+v", c.typ, c.id, ro, got, err, want)
				}
			}
		}
		if got, _ := st.Get(ctx, store.TypeUser, member.ID, store.ReadOptions{Groups: true}); len(got.Groups) != 2 || got.Role != "admin" {
			t.Fatalf("member read without its groups or role: %+v", got)
		}
		// A group whose name is gone (deleted between the two round trips)
		// sends the read to the script, which reports it as it stands.
		if err := r.Client.HDel(ctx, st.KeyBase()+"gname", g1.ID).Err(); err != nil {
			t.Fatal(err)
		}
		got, err := st.Get(ctx, store.TypeUser, member.ID, store.ReadOptions{Groups: true})
		if err != nil {
			t.Fatal(err)
		}
		many, err := st.GetMany(ctx, store.TypeUser, []string{member.ID, alone.ID}, store.ReadOptions{Groups: true})
		if err != nil || !reflect.DeepEqual(got, many[0]) {
			t.Fatalf("fallback read:\n got %+v\nwant %+v (%v)", got, many, err)
		}
	})
}

// TestCreateAnswersWithWrittenAttrs: a creation answers with the
// attributes it was given when they are what decoding the stored document
// gives, and decodes the stored document otherwise (an int is stored as a
// JSON number and read back as float64); either way the answer equals a
// later read.
func TestCreateAnswersWithWrittenAttrs(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		st := store.NewRedis(r.Client, r.Prefix)
		for _, attrs := range []map[string]any{
			{"userName": "native", "active": true, "emails": []any{map[string]any{"value": "a<b>&c@example.com", "primary": true}}, "x": 1.5, "n": nil},
			{"userName": "typed", "count": 3, "tags": []string{"a"}},
		} {
			c, err := st.Create(ctx, store.TypeUser, attrs, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			g, err := st.Get(ctx, store.TypeUser, c.ID, store.ReadOptions{Groups: true})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Attrs, g.Attrs) || c.Doc != g.Doc || c.Version != g.Version || !c.Created.Equal(g.Created) {
				t.Fatalf("create answered\n%+v\nread\n%+v", c, g)
			}
		}
	})
}

// gnameHook records the most fields one HMGET of the group names asked for.
type gnameHook struct{ most int }

func (h *gnameHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *gnameHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.note([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}
func (h *gnameHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.note(cmds)
		return next(ctx, cmds)
	}
}

func (h *gnameHook) note(cmds []redis.Cmder) {
	for _, c := range cmds {
		if a := c.Args(); c.Name() == "hmget" && strings.HasSuffix(fmt.Sprint(a[1]), ":gname") {
			h.most = max(h.most, len(a)-2)
		}
	}
}

// TestGroupNamesInBoundedCommands: a page whose user is in 1,001 groups,
// and a read of that user by id, read all their names, in HMGETs of at
// most 1,000 fields each (one
// command holds Redis), and the user with all of them.
func TestGroupNamesInBoundedCommands(t *testing.T) {
	r := redistest.Mini(t)
	ctx := context.Background()
	st := store.NewRedis(r.Client, r.Prefix)
	var ids []string
	for _, name := range []string{"joiner", "loner"} {
		u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": name}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	const n = 1001
	for i := range n {
		if _, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": fmt.Sprintf("g%04d", i)}, []store.Member{{Value: ids[0], Type: store.TypeUser}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	h := &gnameHook{}
	r.Client.AddHook(h)
	rs, err := st.GetMany(ctx, store.TypeUser, ids, store.ReadOptions{Groups: true})
	if err != nil || len(rs) != 2 {
		t.Fatalf("GetMany: %d users, %v", len(rs), err)
	}
	named := 0
	for _, g := range rs[0].Groups {
		if g.Display != "" {
			named++
		}
	}
	if named != n || len(rs[1].Groups) != 0 {
		t.Fatalf("%d of %d groups named, the loner in %d", named, n, len(rs[1].Groups))
	}
	if h.most == 0 || h.most > 1000 {
		t.Fatalf("largest group-name HMGET asked for %d fields", h.most)
	}
	// a read by id too
	h.most = 0
	u, err := st.Get(ctx, store.TypeUser, ids[0], store.ReadOptions{Groups: true})
	if err != nil {
		t.Fatal(err)
	}
	named = 0
	for _, g := range u.Groups {
		if g.Display != "" {
			named++
		}
	}
	if named != n || h.most == 0 || h.most > 1000 {
		t.Fatalf("Get: %d of %d groups named, largest group-name HMGET %d fields", named, n, h.most)
	}
}

// TestReadScriptsBoundGroupNames: a read script (here the lookup of
// userName eq without a read cache) reads at most 1,000 group names, one
// HGET each, in its run; the names of a user's further groups are read
// after it in bounded HMGETs, so the user comes with every group named.
func TestReadScriptsBoundGroupNames(t *testing.T) {
	r := redistest.Real(t)
	ctx := context.Background()
	st := store.NewRedis(r.Client, r.Prefix)
	u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": "member-of-many"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1001
	for i := range n {
		if _, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": fmt.Sprintf("m%04d", i)}, []store.Member{{Value: u.ID, Type: store.TypeUser}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	hgets := func() int64 {
		for _, line := range strings.Split(r.Client.Info(ctx, "commandstats").Val(), "\n") {
			if rest, ok := strings.CutPrefix(line, "cmdstat_hget:calls="); ok {
				calls, _ := strconv.ParseInt(rest[:strings.IndexByte(rest, ',')], 10, 64)
				return calls
			}
		}
		return 0
	}
	h := &gnameHook{}
	r.Client.AddHook(h)
	before := hgets()
	rs, ok, err := st.LookupGet(ctx, store.TypeUser, "userName", "member-of-many", store.ReadOptions{Groups: true})
	if err != nil || !ok || len(rs) != 1 {
		t.Fatalf("LookupGet: %v %v %v", rs, ok, err)
	}
	named := 0
	for _, g := range rs[0].Groups {
		if strings.HasPrefix(g.Display, "m") {
			named++
		}
	}
	if named != n {
		t.Fatalf("%d of %d groups named", named, n)
	}
	if got := hgets() - before; got > 1+1000 { // the index entry, then the names
		t.Errorf("the lookup ran %d HGETs", got)
	}
	if h.most == 0 || h.most > 1000 {
		t.Errorf("the names after the script: largest HMGET %d fields", h.most)
	}
}
