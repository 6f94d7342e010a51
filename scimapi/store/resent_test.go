package store

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/redistest"
)

// lostReplyHook applies the first creation the write script is sent, then
// reports its reply lost (as a connection dropped after Redis ran it),
// first running after, when set (another client's work in between).
type lostReplyHook struct {
	after func()
	n     atomic.Int32
}

func (h *lostReplyHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *lostReplyHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *lostReplyHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		a := cmd.Args()
		if err != nil || cmd.Name() != "evalsha" || len(a) < 3 || a[1] != writeScript.Hash() {
			return err
		}
		n, _ := a[2].(int)
		if len(a) <= 6+n || a[6+n] != "create" || h.n.Add(1) != 1 {
			return err
		}
		if h.after != nil {
			h.after()
		}
		cmd.SetErr(io.ErrUnexpectedEOF)
		return io.ErrUnexpectedEOF
	}
}

// TestCreateResent: a creation stores no write token (createResent in
// scripts.go), yet one whose reply was lost and which the store sends
// again is applied once and answered as created; one deleted by another
// client before the resend is not brought back.
func TestCreateResent(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s := NewRedis(r.Client, r.Prefix)
		// one creation first, so Redis has the script (the hook looks for
		// its EVALSHA)
		warm, err := s.Create(ctx, TypeUser, map[string]any{"userName": "warm"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		hook := &lostReplyHook{}
		r.Client.AddHook(hook)
		j := &Journal{Audit: audit.Event{Actor: audit.Actor{ClientID: "c"}, Target: audit.Target{Type: TypeUser, Name: "ada"},
			RequestID: "7d444840-9dc0-11d1-b245-5ffdce74fad2"},
			DocAction: audit.UserProvisioned, Event: "user.created"}
		u, err := s.Create(ctx, TypeUser, map[string]any{"userName": "ada"}, nil, j)
		if err != nil {
			t.Fatalf("create whose first reply was lost: %v", err)
		}
		if hook.n.Load() != 2 {
			t.Fatalf("the write script ran %d times, want 2 (sent again)", hook.n.Load())
		}
		if u.Version != 1 || u.Attrs["userName"] != "ada" {
			t.Fatalf("resent creation answered %+v", u)
		}
		if n, err := s.Count(ctx, TypeUser); err != nil || n != 2 {
			t.Fatalf("%d users (%v) after a resent creation, want 2", n, err)
		}
		entries, err := r.Client.XRange(ctx, audit.TaggedKey(r.Prefix, DefaultTag), "-", "+").Result()
		if err != nil || len(entries) != 1 {
			t.Fatalf("%d audit entries (%v) after a resent creation, want 1", len(entries), err)
		}
		// the resend is answered with the applied send's audit entry
		if j.AuditID != entries[0].ID {
			t.Fatalf("resent creation's audit entry %q, want %q", j.AuditID, entries[0].ID)
		}
		if keys, err := r.Client.Keys(ctx, s.p+"w:*").Result(); err != nil || len(keys) != 0 {
			t.Fatalf("write tokens after a creation: %v %v", keys, err)
		}

		// Deleted between the applied send and the resend.
		other := NewRedis(redis.NewClient(r.Client.(*redis.Client).Options()), r.Prefix)
		var deleted string
		hook2 := &lostReplyHook{after: func() {
			ids, err := other.c.ZRange(ctx, other.allKey(TypeUser), 0, -1).Result()
			if err != nil {
				t.Error(err)
				return
			}
			for _, id := range ids {
				if id != u.ID && id != warm.ID {
					deleted = id
					if err := other.Delete(ctx, TypeUser, id, 0, nil); err != nil {
						t.Error(err)
					}
				}
			}
		}}
		hook.n.Store(2) // done with the first hook
		r.Client.AddHook(hook2)
		if _, err := s.Create(ctx, TypeUser, map[string]any{"userName": "bob"}, nil, nil); !errors.Is(err, ErrCreatedThenDeleted) {
			t.Fatalf("resent creation of a resource deleted meanwhile: %v", err)
		}
		if deleted == "" {
			t.Fatal("the other client deleted nothing")
		}
		if _, err := s.Get(ctx, TypeUser, deleted, ReadOptions{}); err != ErrNotFound {
			t.Fatalf("the deleted resource after the resend: %v", err)
		}
		if n, err := s.Count(ctx, TypeUser); err != nil || n != 2 {
			t.Fatalf("%d users (%v), want 2", n, err)
		}

		// A group created with members, its reply lost: its audit record
		// is the one with members (the script's second), which the resend
		// finds too.
		hook2.n.Store(2) // done with the second hook
		hook3 := &lostReplyHook{}
		r.Client.AddHook(hook3)
		gj := &Journal{Audit: audit.Event{Actor: audit.Actor{ClientID: "c"}, Target: audit.Target{Type: TypeGroup, Name: "g"},
			RequestID: "5e3a1f9c-9dc0-11d1-b245-5ffdce74fad2"},
			DocAction: audit.GroupCreated, Event: "group.created"}
		if _, err := s.Create(ctx, TypeGroup, map[string]any{"displayName": "g"}, []Member{{Value: u.ID}}, gj); err != nil {
			t.Fatalf("group creation whose first reply was lost: %v", err)
		}
		if hook3.n.Load() != 2 {
			t.Fatalf("the write script ran %d times for the group, want 2", hook3.n.Load())
		}
		last, err := r.Client.XRevRangeN(ctx, audit.TaggedKey(r.Prefix, DefaultTag), "+", "-", 1).Result()
		if err != nil || len(last) != 1 || gj.AuditID != last[0].ID {
			t.Fatalf("resent group creation's audit entry %q, want %v (%v)", gj.AuditID, last, err)
		}
	})
}
