package scimapi_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// replyCounter is a go-redis hook that adds up the size of every reply.
type replyCounter struct{ bytes atomic.Int64 }

func (*replyCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (*replyCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (rc *replyCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if c, ok := cmd.(*redis.Cmd); ok {
			rc.bytes.Add(int64(len(fmt.Sprint(c.Val()))))
		}
		return err
	}
}

// TestMemberPatchDoesNotReadTheGroup: adding or removing one member of a
// 2,000-member group reads back a few kilobytes, not the member list
// (the "time proportional to the change"; measured by reply size
// so the test is deterministic).
func TestMemberPatchDoesNotReadTheGroup(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		e := newEnv(t, r, false)
		st := store.NewRedis(r.Client, r.Prefix)
		ctx := context.Background()
		g, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "big"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Seed 2,000 members, 8 writers at a time.
		ids := make([]string, 2000)
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < len(ids); i += 8 {
					u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": fmt.Sprintf("m%d", i)}, nil, nil)
					if err != nil {
						t.Error(err)
						return
					}
					ids[i] = u.ID
				}
			}(w)
		}
		wg.Wait()
		ms := make([]store.Member, len(ids))
		for i, id := range ids {
			ms[i] = store.Member{Value: id}
		}
		if _, _, err := st.Update(ctx, store.TypeGroup, g.ID, store.Condition{}, nil, &store.MemberChange{Add: ms}, nil); err != nil {
			t.Fatal(err)
		}
		last := ids[len(ids)-1]
		extra, _ := st.Create(ctx, store.TypeUser, map[string]any{"userName": "extra"}, nil, nil)
		var rc replyCounter
		r.Client.AddHook(&rc)
		e.must(e.do("PATCH", "/scim/v2/Groups/"+g.ID, patchBody(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": extra.ID}}})), 204)
		e.must(e.do("PATCH", "/scim/v2/Groups/"+g.ID, patchBody(map[string]any{"op": "remove", "path": fmt.Sprintf(`members[value eq "%s"]`, last)})), 204)
		if n := rc.bytes.Load(); n > 8<<10 {
			t.Fatalf("two member PATCHes on a 2,000-member group read %d bytes of replies", n)
		}
		// The full read, for comparison, is far larger.
		rc.bytes.Store(0)
		e.must(e.do("GET", "/scim/v2/Groups/"+g.ID, nil), 200)
		if n := rc.bytes.Load(); n < 60<<10 {
			t.Fatalf("reading the group took only %d bytes: the hook does not measure", n)
		}
	})
}
