package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrIndexBuilding is Lookup's answer for an index that Backfill has not
// completed yet: resources written before the index existed may lack their
// entries, so the caller must scan instead.
var ErrIndexBuilding = errors.New("store: index still being built")

// values returns the normalised values attrs holds for ix: one per element
// of a multi-valued attribute ("emails.value"), none when absent or empty.
func (ix index) values(attrs map[string]any) []string {
	top, sub, _ := strings.Cut(ix.attr, ".")
	var raw []any
	switch v := attrs[top].(type) {
	case string:
		if sub == "" {
			raw = []any{v}
		}
	case map[string]any:
		if sub != "" {
			raw = []any{v[sub]}
		}
	case []any:
		if sub != "" {
			for _, e := range v {
				if m, ok := e.(map[string]any); ok {
					raw = append(raw, m[sub])
				}
			}
		}
	}
	var out []string
	for _, r := range raw {
		s, ok := r.(string)
		if !ok || s == "" {
			continue
		}
		s = ix.norm(s)
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (s *Redis) readyKey() string { return s.p + "ixready" }

func readyField(typ string, ix index) string { return typ + ":" + ix.attr }

// indexReady reports whether the backfilled index ix of typ is complete;
// when it is not, it starts Backfill in the background (once per store
// value; replicas and concurrent calls share the work through a lock).
func (s *Redis) indexReady(ctx context.Context, typ string, ix index) (bool, error) {
	f := readyField(typ, ix)
	if _, ok := s.ready.Load(f); ok {
		return true, nil
	}
	v, err := s.c.HGet(ctx, s.readyKey(), f).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, err
	}
	if v == "1" {
		s.ready.Store(f, true)
		return true, nil
	}
	if _, started := s.ready.LoadOrStore("backfill:"+typ, true); !started {
		go func() {
			bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), BackfillTimeout)
			defer cancel()
			if err := s.Backfill(bctx, typ); err != nil {
				slog.Warn("index backfill", "type", typ, "err", err)
			}
			s.ready.Delete("backfill:" + typ)
		}()
	}
	return false, nil
}

// BackfillTimeout bounds one background Backfill run; an interrupted run
// starts over on the next Lookup that finds the index incomplete.
const BackfillTimeout = 30 * time.Minute

// backfillBatch is how many resources one backfill step indexes (one read
// round trip, one script run of about as many index writes).
const backfillBatch = 100

// backfillLockTTL is how long the backfill lock outlives its last step.
const backfillLockTTL = 30 * time.Second

// Backfill adds the entries of typ's backfilled indexes (index.backfill)
// for every stored resource, in steps of backfillBatch resources in id
// order, then marks those indexes ready (P{tag}:ixready) so Lookup serves
// them. Resources written meanwhile carry their own entries (every write
// maintains the indexes); a step skips a resource whose attributes changed
// since it was read. One replica runs it at a time (a lock key); others
// return nil at once. It does nothing when the indexes are ready.
func (s *Redis) Backfill(ctx context.Context, typ string) error {
	var fields []string
	for _, ix := range indexesOf(typ) {
		if ix.backfill {
			fields = append(fields, readyField(typ, ix))
		}
	}
	if len(fields) == 0 {
		return nil
	}
	ready, err := s.c.HMGet(ctx, s.readyKey(), fields...).Result()
	if err != nil {
		return fmt.Errorf("store: backfill %s: %w", typ, err)
	}
	if !slices.ContainsFunc(ready, func(v any) bool { return v != "1" }) {
		return nil
	}
	lock := s.p + "ixlock:" + typ
	ok, err := s.c.SetNX(ctx, lock, "1", backfillLockTTL).Result()
	if err != nil || !ok {
		return err
	}
	defer s.c.Del(context.WithoutCancel(ctx), lock)
	after := "-"
	for {
		ids, err := s.c.ZRangeByLex(ctx, s.allKey(typ), &redis.ZRangeBy{Min: after, Max: "+", Count: backfillBatch}).Result()
		if err != nil {
			return fmt.Errorf("store: backfill %s: %w", typ, err)
		}
		if len(ids) == 0 {
			break
		}
		if err := s.backfillStep(ctx, typ, ids); err != nil {
			return err
		}
		if err := s.c.PExpire(ctx, lock, backfillLockTTL).Err(); err != nil {
			return fmt.Errorf("store: backfill %s: %w", typ, err)
		}
		after = "(" + ids[len(ids)-1]
	}
	args := make([]any, 0, 2*len(fields))
	for _, f := range fields {
		args = append(args, f, "1")
	}
	if err := s.c.HSet(ctx, s.readyKey(), args...).Err(); err != nil {
		return fmt.Errorf("store: backfill %s: %w", typ, err)
	}
	return nil
}

// backfillStep indexes the resources ids of typ.
func (s *Redis) backfillStep(ctx context.Context, typ string, ids []string) error {
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, s.resKey(id), "doc", "dv")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: backfill %s: %w", typ, err)
	}
	args := []any{s.p}
	for i, id := range ids {
		f := cmds[i].Val()
		doc, _ := f[0].(string)
		if doc == "" {
			continue // deleted since
		}
		dv, _ := f[1].(string)
		if dv == "" {
			dv = "1"
		}
		var attrs map[string]any
		if err := json.Unmarshal([]byte(doc), &attrs); err != nil {
			return fmt.Errorf("store: backfill %s %s: %w", typ, id, err)
		}
		ix, flat, err := indexArgs(typ, attrs)
		if err != nil {
			return err
		}
		// the entries of the backfilled indexes: those in "ix3"
		var entries []any
		for j := 0; j+3 < len(flat); j += 4 {
			if indexesOf(typ)[flat[j].(int)-3].backfill {
				entries = append(entries, flat[j], flat[j+1])
			}
		}
		args = append(args, id, dv, ix[2], len(entries)/2)
		args = append(args, entries...)
	}
	if len(args) == 1 {
		return nil
	}
	if err := backfillScript.Run(ctx, s.c, s.keys(typ, ""), args...).Err(); err != nil {
		return fmt.Errorf("store: backfill %s: %w", typ, err)
	}
	return nil
}

// backfillScript adds index entries of resources unchanged since read.
//
//	KEYS as for writeScript (of any id: only the index keys are used)
//	ARGV[1] key prefix, then per resource: id, attribute version (dv) it
//	was read at, its new "ix3" field, n, and n pairs keyIndex, value
//
// Returns the number of resources indexed.
var backfillScript = redis.NewScript(`
local p = ARGV[1]
local i, done = 2, 0
while i <= #ARGV do
  local id, dv, ix3, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  i = i + 4
  local res = p .. 'r:' .. id
  local cur = redis.call('HMGET', res, 't', 'dv')
  if cur[1] and (cur[2] or '1') == dv then
    for k = 0, n - 1 do
      redis.call('ZADD', KEYS[tonumber(ARGV[i + 2 * k])], 0, ARGV[i + 2 * k + 1] .. '\0' .. id)
    end
    if ix3 ~= '' then redis.call('HSET', res, 'ix3', ix3) end
    done = done + 1
  end
  i = i + 2 * n
end
return done
`)
