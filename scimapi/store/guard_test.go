package store

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/scimgate/scimgate/redisfault"
	"github.com/scimgate/scimgate/redistest"
)

// TestWriteAfterDeadlineChangesNothing: a write whose script starts after
// the caller's deadline (less the reply margin) is refused with DEADLINE,
// classified as Redis trouble (503), and leaves no trace.
func TestWriteAfterDeadlineChangesNothing(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		s := NewRedis(r.Client, r.Prefix)
		// The context is still live, but less than replyMargin remains.
		ctx, cancel := context.WithTimeout(context.Background(), replyMargin-50*time.Millisecond)
		defer cancel()
		_, err := s.Create(ctx, TypeUser, map[string]any{"userName": "late"}, nil, nil)
		if redisfault.Classify(err) != redisfault.Deadline {
			t.Fatalf("want a DEADLINE refusal, got %v", err)
		}
		ids, err := s.Lookup(context.Background(), TypeUser, "userName", "late")
		if err != nil || len(ids) != 0 {
			t.Fatalf("refused write left %v (%v)", ids, err)
		}
		if n, _ := s.Count(context.Background(), TypeUser); n != 0 {
			t.Fatalf("refused write counted: %d", n)
		}
	})
}

// TestWriteResentIsAppliedOnce: the client library may send a write again
// after a lost reply; the second run answers the first run's result
// instead of applying it twice (a create would otherwise fail EXISTS, an
// update bump the version twice, a delete answer NOTFOUND).
func TestWriteResentIsAppliedOnce(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		s := NewRedis(r.Client, r.Prefix)
		u, err := s.Create(ctx, TypeUser, map[string]any{"userName": "ada"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		deadline := strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10)
		run := func() []any {
			res, err := writeScript.Run(ctx, s.c, s.keys(TypeUser, u.ID), s.p, u.ID, TypeUser, "update", "0",
				time.Now().UTC().Format(time.RFC3339Nano), `{"userName":"ada","title":"x"}`, "", "", "", "", "0",
				"token-1", deadline, "0", "1").Slice()
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		first, second := run(), run()
		if first[0] != int64(2) || second[0] != int64(2) || first[1] != int64(1) || second[1] != int64(1) {
			t.Fatalf("replies %v then %v, want version 2 changed twice", first[:3], second[:3])
		}
		got, err := s.Get(ctx, TypeUser, u.ID, ReadOptions{})
		if err != nil || got.Version != 2 {
			t.Fatalf("version after a resent update: %+v %v", got, err)
		}
		del := func() error {
			return deleteScript.Run(ctx, s.c, s.keys(TypeUser, u.ID), s.p, u.ID, "0",
				time.Now().UTC().Format(time.RFC3339Nano), TypeUser, "", "", "token-2", deadline).Err()
		}
		if err := del(); err != nil {
			t.Fatal(err)
		}
		if err := del(); err != nil {
			t.Fatalf("resent delete: %v", err)
		}
		if _, err := s.Get(ctx, TypeUser, u.ID, ReadOptions{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
	})
}
