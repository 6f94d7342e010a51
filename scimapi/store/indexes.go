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

	"github.com/google/uuid"
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

// readyValue is a complete index's ready marker. Gateways before the
// optional indexes (scim.indexes) wrote "1" at the end of a backfill that
// a concurrent write by a newer gateway with the index disabled could
// leave incomplete; a marker of theirs is therefore never trusted: "1"
// reads as not built, and enabling the index backfills it again.
const readyValue = "2"

func readyField(typ string, ix index) string { return typ + ":" + ix.attr }

// lookupBackfilled is lookupIndex for a backfilled index: the entries of
// value (between lo and hi) when the index is complete, checked in the
// same script, else ErrIndexBuilding, after starting Backfill in the
// background (once at a time per store value; replicas and concurrent
// calls share the work through a lock). The marker is read on every
// lookup, not cached: a gateway with the index disabled clears it with
// its writes.
func (s *Redis) lookupBackfilled(ctx context.Context, typ string, ix index, key, value, lo, hi string) ([]string, error) {
	members, err := lookupReadyScript.Run(ctx, s.c, []string{key, s.readyKey()}, readyField(typ, ix), lo, hi).StringSlice()
	if err == nil {
		return entryIDs(members, value), nil
	}
	if !errors.Is(err, redis.Nil) {
		return nil, err
	}
	s.startBackfill(ctx, typ)
	return nil, ErrIndexBuilding
}

// startBackfill starts Backfill of typ in the background, unless this
// store value runs one already (replicas and concurrent calls share the
// work through a lock).
func (s *Redis) startBackfill(ctx context.Context, typ string) {
	if _, started := s.ready.LoadOrStore("backfill:"+typ, true); started {
		return
	}
	go func() {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), BackfillTimeout)
		defer cancel()
		if err := s.Backfill(bctx, typ); err != nil {
			slog.Warn("index backfill", "type", typ, "err", err)
		}
		s.ready.Delete("backfill:" + typ)
	}()
}

// lookupReadyScript reads a backfilled index's entries of one value when
// its ready marker is set.
//
//	KEYS[1] the index zset  KEYS[2] ixready
//	ARGV[1] the index's ready field  ARGV[2], ARGV[3] ZRANGEBYLEX min, max
//
// Returns the entries, or nil when the index is not complete.
var lookupReadyScript = redis.NewScript(`
if redis.call('HGET', KEYS[2], ARGV[1]) ~= '` + readyValue + `' then return false end
return redis.call('ZRANGEBYLEX', KEYS[1], ARGV[2], ARGV[3])
`)

// BackfillTimeout bounds one background Backfill run; an interrupted run
// starts over on the next Lookup that finds the index incomplete.
const BackfillTimeout = 30 * time.Minute

// backfillBatch is how many resources one backfill step indexes (one read
// round trip, one script run of about as many index writes).
const backfillBatch = 100

// backfillLockTTL is how long the backfill lock outlives its last step.
const backfillLockTTL = 30 * time.Second

// Backfill adds the entries of typ's enabled backfilled indexes
// (index.backfill) for every stored resource, in steps of backfillBatch
// resources in id order, then marks those indexes ready (P{tag}:ixready)
// so Lookup serves them. Resources written meanwhile carry their own
// entries (every write maintains the enabled indexes); a step skips a
// resource whose attributes changed since it was read. One replica runs it
// at a time (a lock key); others return nil at once. It does nothing when
// the indexes are ready. The markers are set only if no write by a gateway
// with the index disabled came in between (such a write clears the
// marker, which Backfill set to a token of its own when it began).
func (s *Redis) Backfill(ctx context.Context, typ string) error {
	var fields []string
	for _, ix := range indexesOf(typ) {
		if ix.backfill && s.enabled(typ, ix) {
			fields = append(fields, readyField(typ, ix))
		}
	}
	if len(fields) == 0 {
		return nil
	}
	// the fields not marked complete; read again under the lock: a
	// Backfill that held it may have completed them since
	pending := func() ([]any, error) {
		ready, err := s.c.HMGet(ctx, s.readyKey(), fields...).Result()
		if err != nil {
			return nil, fmt.Errorf("store: backfill %s: %w", typ, err)
		}
		var building []any
		for i, v := range ready {
			if v != readyValue {
				building = append(building, fields[i])
			}
		}
		return building, nil
	}
	building, err := pending()
	if err != nil || len(building) == 0 {
		return err
	}
	// the lock holds this run's token: it is renewed and released only
	// by its holder, so a run that stalled past its expiry cannot release
	// or extend another's
	token := "building " + uuid.NewString()
	lock := []string{s.p + "ixlock:" + typ}
	ok, err := s.c.SetNX(ctx, lock[0], token, backfillLockTTL).Result()
	if err != nil || !ok {
		return err
	}
	defer lockScript.Run(context.WithoutCancel(ctx), s.c, lock, token, 0)
	if building, err = pending(); err != nil || len(building) == 0 {
		return err
	}
	args := make([]any, 0, 2*len(building))
	for _, f := range building {
		args = append(args, f, token)
	}
	if err := s.c.HSet(ctx, s.readyKey(), args...).Err(); err != nil {
		return fmt.Errorf("store: backfill %s: %w", typ, err)
	}
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
		held, err := lockScript.Run(ctx, s.c, lock, token, backfillLockTTL.Milliseconds()).Int()
		if err != nil {
			return fmt.Errorf("store: backfill %s: %w", typ, err)
		}
		if held == 0 {
			return fmt.Errorf("store: backfill %s: lock lost (a step took longer than %v); not marked complete", typ, backfillLockTTL)
		}
		after = "(" + ids[len(ids)-1]
	}
	n, err := markReadyScript.Run(ctx, s.c, []string{s.readyKey()}, append([]any{token}, building...)...).Int()
	if err != nil {
		return fmt.Errorf("store: backfill %s: %w", typ, err)
	}
	if n < len(building) {
		return fmt.Errorf("store: backfill %s: a gateway with an index disabled wrote meanwhile; not marked complete", typ)
	}
	return nil
}

// lockScript renews or releases the backfill lock KEYS[1] if it still
// holds the token ARGV[1]: for ARGV[2] ms (PEXPIRE), or at once ("0"). A
// renewal finding the lock expired and free takes it again (the markers
// still hold the run's token, which markReadyScript checks).
// Returns 1 if it did, 0 if the lock is another run's.
var lockScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur and ARGV[2] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if cur ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`)

// markReadyScript sets ready markers still holding a Backfill's token.
//
//	KEYS[1] ixready  ARGV[1] the token  ARGV[2..] the ready fields
//
// Returns how many it set.
var markReadyScript = redis.NewScript(`
local n = 0
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then
    redis.call('HSET', KEYS[1], ARGV[i], '` + readyValue + `')
    n = n + 1
  end
end
return n
`)

// backfillStep indexes the resources ids of typ.
func (s *Redis) backfillStep(ctx context.Context, typ string, ids []string) error {
	cmds := make([]*redis.SliceCmd, len(ids))
	var docs *redis.SliceCmd // the document keys' values, in one MGET
	_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, s.resKey(id), "doc", "dv", "ix3")
		}
		docs = s.mgetDocs(ctx, p, ids)
		return nil
	})
	// each command's own error: a pipeline's is its first failure
	for i := range ids {
		if err := cmds[i].Err(); err != nil {
			return fmt.Errorf("store: backfill %s: %w", typ, err)
		}
	}
	if err := docs.Err(); err != nil {
		return fmt.Errorf("store: backfill %s: %w", typ, err)
	}
	indexes := indexesOf(typ)
	args := []any{s.p}
	for i, id := range ids {
		f := cmds[i].Val()
		hd, _ := f[0].(string)
		dv, _ := f[1].(string)
		if dv == "" {
			dv = "1"
		}
		kv, _ := docs.Val()[i].(string)
		doc, kdv, inKey := storedDoc(hd, kv)
		if inKey {
			// at the version the key names (the script skips the
			// resource when that is not the hash's any more)
			dv = kdv
		}
		if doc == "" {
			continue // deleted since
		}
		doc, err := expandDoc(doc)
		if err != nil {
			return fmt.Errorf("store: backfill %s %s: %w", typ, id, err)
		}
		var attrs map[string]any
		if err := json.Unmarshal([]byte(doc), &attrs); err != nil {
			return fmt.Errorf("store: backfill %s %s: %w", typ, id, err)
		}
		_, flat, err := indexArgs(typ, attrs, s.enabled)
		if err != nil {
			return err
		}
		// the entries of the enabled backfilled indexes, and "ix3" naming
		// them and those of disabled ones that the resource still has
		// (written while they were enabled: its next write drops them)
		old, _ := f[2].(string)
		kept, err := keptEntries(old, func(key int) bool { return !s.enabled(typ, indexes[key-3]) })
		if err != nil {
			return fmt.Errorf("store: backfill %s %s: %w", typ, id, err)
		}
		var entries []any
		for j := 0; j+3 < len(flat); j += 4 {
			if k := flat[j].(int); indexes[k-3].backfill {
				entries = append(entries, k, flat[j+1])
				kept = append(kept, ixEntry{key: k, value: flat[j+1].(string)})
			}
		}
		ix3 := ""
		if len(kept) > 0 {
			b, err := appendIxEntries(nil, kept)
			if err != nil {
				return err
			}
			ix3 = string(b)
		}
		args = append(args, id, dv, ix3, len(entries)/2)
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

// keptEntries returns the entries of the recorded index field old (JSON
// [[keyIndex, value, unique], ...], "" = none) whose keyIndex keep accepts.
func keptEntries(old string, keep func(key int) bool) ([]ixEntry, error) {
	if old == "" {
		return nil, nil
	}
	var raw [][3]any
	if err := json.Unmarshal([]byte(old), &raw); err != nil {
		return nil, err
	}
	var out []ixEntry
	for _, e := range raw {
		k, _ := e[0].(float64)
		v, _ := e[1].(string)
		u, _ := e[2].(float64)
		if keep(int(k)) {
			out = append(out, ixEntry{key: int(k), value: v, unique: u == 1})
		}
	}
	return out, nil
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
      redis.call('ZADD', KEYS[tonumber(ARGV[i + 2 * k])], '0', ARGV[i + 2 * k + 1] .. '\0' .. id)
    end
    if ix3 ~= '' then redis.call('HSET', res, 'ix3', ix3) end
    done = done + 1
  end
  i = i + 2 * n
end
return done
`)
