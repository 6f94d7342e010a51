package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// resFields are the fields of a resource hash a read returns, in the order
// of the read scripts' reply (readOne in scripts.go).
var resFields = []string{"t", "doc", "v", "c", "m", "role", "dv"}

// hmgetResFields is HMGET's command line without its key (nil), the
// fields boxed once: HMGet boxes each field on every call.
var hmgetResFields = func() []any {
	a := []any{"hmget", nil}
	for _, f := range resFields {
		a = append(a, f)
	}
	return a
}()

// hmgetArgs returns the command line of HMGET of resFields from key.
func hmgetArgs(key string) []any {
	a := slices.Clone(hmgetResFields)
	a[1] = key
	return a
}

// getOne reads one resource with plain commands instead of the read script:
// one pipelined round trip of HMGET of the resource hash, GET of its
// document key (DocumentKeys) and SMEMBERS of its groups (ro.Groups). A
// Group read with its members keeps the script: the members come in the
// hash's order, which HGETALL's map reply (RESP3) loses and HKEYS/HVALS
// do not pair on miniredis.
// A script costs Redis about ten times the CPU of these commands, and a
// read by id is the most frequent request. It is a plain pipeline, not
// MULTI/EXEC: Redis refuses every command queued in a transaction once
// maxmemory is reached, and reads must go on working on a full Redis. The
// two replies are therefore not one snapshot: a membership change between
// them shows as if the groups were read a moment later, which a read can
// never tell apart (a user's groups are derived, not part of its version).
//
// Group display names need the group ids first: when the resource is in
// groups, a second round trip reads them with one HMGET of the gname hash.
// A group deleted in between (its name gone) sends the read to the script,
// so a group is never reported without its name; a group renamed in between
// shows its newer name, which is not part of the member's version.
// The hash and the document key are not read as one snapshot either (nor
// at once from the read cache, whose entries are invalidated one key at a
// time): a document key's value carries the attribute version it was
// written at, and when that is not the hash's "dv" (a write in between),
// or the hash has no document anywhere, the read goes to the script.
// It returns nil, nil when the resource does not exist.
func (s *Redis) getOne(ctx context.Context, typ, id string, ro ReadOptions) (*Resource, error) {
	if ro.Members && typ == TypeGroup {
		return s.getScript(ctx, typ, id, ro)
	}
	h := redis.NewSliceCmd(ctx, hmgetArgs(s.resKey(id))...)
	d := redis.NewStringCmd(ctx, "get", s.docKey(id))
	var of *redis.StringSliceCmd
	if ro.Groups {
		of = redis.NewStringSliceCmd(ctx, "smembers", s.p+"of:"+id)
	}
	// each command's own error: a pipeline's is its first failure, which
	// may be the GET's redis.Nil (no document key) before a real one
	_ = s.readCmds(ctx, h, d, of, ro.Fresh)
	if err := errors.Join(h.Err(), ignoreNil(d.Err()), cmdErr(of)); err != nil {
		return nil, fmt.Errorf("store: read: %w", err)
	}
	f, found, whole := plainFields(typ, h.Val(), d.Val())
	switch {
	case !found:
		return nil, nil
	case !whole:
		return s.getScript(ctx, typ, id, ro)
	}
	if of != nil && len(of.Val()) > 0 {
		gids := of.Val()
		// name(i) is group i's name, nil when it has none
		var name func(i int) any
		if len(gids) <= groupNameBatch {
			// one HMGET, through the read cache when it serves
			names, err := s.reader(ro.Fresh).HMGet(ctx, s.p+"gname", gids...).Result()
			if err != nil {
				return nil, fmt.Errorf("store: read group names: %w", err)
			}
			name = func(i int) any { return names[i] }
		} else {
			// a user in very many groups: HMGETs of at most
			// groupNameBatch fields, so no one command holds Redis long
			names, err := s.groupNames(ctx, gids)
			if err != nil {
				return nil, err
			}
			name = func(i int) any { return names[gids[i]] }
		}
		gs := make([]any, 0, 2*len(gids))
		for i, gid := range gids {
			n := name(i)
			if _, ok := n.(string); !ok { // the group deleted in between
				return s.getScript(ctx, typ, id, ro)
			}
			gs = append(gs, gid, n)
		}
		f[5] = gs
	}
	return decodeFields(id, f, ro.RawOnly)
}

// plainFields is a resource as the read script returns it (see readOne),
// without its groups and members, from the HMGET of resFields of its hash
// (v) and its document key's value (key, "" when there is none): found is
// false when there is no such resource of typ, whole is false when its
// document is not in what was read (its hash names its key, which is gone
// or holds another attribute version than the hash's "dv": the two were
// read around a write), and the caller reads it with the script instead.
func plainFields(typ string, v []any, key string) (f []any, found, whole bool) {
	if len(v) != len(resFields) || v[0] != typ {
		return nil, false, false
	}
	f = make([]any, 9)
	copy(f[:5], v[:5])
	// The strings are moved as the interface values they came in, not
	// converted back to new ones (an allocation each).
	f[7], f[8] = "", "1"
	if _, ok := v[5].(string); ok {
		f[7] = v[5]
	}
	if _, ok := v[6].(string); ok {
		f[8] = v[6]
	}
	hd, _ := v[1].(string)
	if doc, dv, inKey := storedDoc(hd, key); inKey {
		if dv == "" || dv != f[8] {
			return f, true, false
		}
		f[1] = doc
	}
	return f, true, true
}

// getManyPlain is getManyScript with plain commands, as getOne reads one
// resource: one pipelined round trip of an HMGET of each hash, one MGET of
// the document keys and, with ro.Groups, an SMEMBERS of each one's
// groups; then, when any is in a group, the group names (groupNames). The
// read script costs Redis several times these commands' CPU
// (BenchmarkGetManyPage). A resource whose hash and document key were read
// around a write, or one of whose groups lost its name in between, is read
// again with the script; so is every Group read with its members. The
// resources come in ids' order.
func (s *Redis) getManyPlain(ctx context.Context, typ string, ids []string, ro ReadOptions) ([]*Resource, error) {
	if ro.Members && typ == TypeGroup {
		return s.getManyScript(ctx, typ, ids, ro)
	}
	out := make([]*Resource, 0, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), ReadBatch)]
		ids = ids[len(chunk):]
		rs, err := s.plainChunk(ctx, typ, chunk, ro)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// plainChunk is getManyPlain for at most ReadBatch ids.
func (s *Redis) plainChunk(ctx context.Context, typ string, ids []string, ro ReadOptions) ([]*Resource, error) {
	hs := make([]*redis.SliceCmd, len(ids))
	var ofs []*redis.StringSliceCmd
	if ro.Groups {
		ofs = make([]*redis.StringSliceCmd, len(ids))
	}
	var keys *redis.SliceCmd
	_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			hs[i] = redis.NewSliceCmd(ctx, hmgetArgs(s.resKey(id))...)
			_ = p.Process(ctx, hs[i])
			if ofs != nil {
				ofs[i] = p.SMembers(ctx, s.p+"of:"+id)
			}
		}
		keys = s.mgetDocs(ctx, p, ids)
		return nil
	})
	// each command's own error (a pipeline's is its first failure); a
	// lost connection fails them all alike, so the first one is reported
	err := keys.Err()
	for i := 0; i < len(ids) && err == nil; i++ {
		err = hs[i].Err()
		if err == nil && ofs != nil {
			err = ofs[i].Err()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("store: read: %w", err)
	}
	fields := make([][]any, len(ids)) // nil: absent, or read again
	var again, gids []string
	for i, id := range ids {
		kv, _ := keys.Val()[i].(string)
		f, found, whole := plainFields(typ, hs[i].Val(), kv)
		switch {
		case !found:
			continue
		case !whole:
			again = append(again, id)
			continue
		}
		fields[i] = f
		if ofs != nil {
			gids = append(gids, ofs[i].Val()...)
		}
	}
	if len(gids) > 0 {
		slices.Sort(gids)
		gids = slices.Compact(gids)
		name, err := s.groupNames(ctx, gids)
		if err != nil {
			return nil, err
		}
		for i, f := range fields {
			if f == nil || len(ofs[i].Val()) == 0 {
				continue
			}
			gs := make([]any, 0, 2*len(ofs[i].Val()))
			for _, gid := range ofs[i].Val() {
				n, ok := name[gid]
				if !ok { // the group deleted in between
					again = append(again, ids[i])
					fields[i] = nil
					break
				}
				gs = append(gs, gid, n)
			}
			if fields[i] != nil {
				f[5] = gs
			}
		}
	}
	var reread map[string]*Resource
	if len(again) > 0 {
		rs, err := s.getManyScript(ctx, typ, again, ro)
		if err != nil {
			return nil, err
		}
		reread = make(map[string]*Resource, len(rs))
		for _, r := range rs {
			reread[r.ID] = r
		}
	}
	out := make([]*Resource, 0, len(ids))
	for i, id := range ids {
		if fields[i] == nil {
			if r, ok := reread[id]; ok {
				out = append(out, r)
			}
			continue
		}
		r, err := decodeFields(id, fields[i], ro.RawOnly)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// groupNameBatch is the most group names one HMGET of groupNames reads:
// a page's users may be in many groups, and one command holds Redis.
const groupNameBatch = 1000

// groupNameBatchLua is groupNameBatch in the read scripts' source
// (TestGroupNameBatchLua holds the two together).
const groupNameBatchLua = "1000"

// fillGroupNames sets, in resources as the read scripts return them, the
// group names those scripts left out (nil: past the groupNameBatch names
// one run reads, see luaReadOne), reading them with groupNames; a group
// without a name (deleted since) gets "", as the scripts give it.
func (s *Redis) fillGroupNames(ctx context.Context, all ...[]any) error {
	// the group lists with a name left out, and the ids to read
	var lists [][]any
	var gids []string
	for _, f := range all {
		if len(f) < 6 {
			continue
		}
		gs, _ := f[5].([]any)
		left := false
		for i := 0; i+1 < len(gs); i += 2 {
			if gid, ok := gs[i].(string); ok && gs[i+1] == nil {
				gids, left = append(gids, gid), true
			}
		}
		if left {
			lists = append(lists, gs)
		}
	}
	if len(gids) == 0 {
		return nil
	}
	slices.Sort(gids)
	names, err := s.groupNames(ctx, slices.Compact(gids))
	if err != nil {
		return err
	}
	for _, gs := range lists {
		for i := 0; i+1 < len(gs); i += 2 {
			if gs[i+1] == nil {
				gid, _ := gs[i].(string)
				name, ok := names[gid]
				if !ok {
					name = ""
				}
				gs[i+1] = name
			}
		}
	}
	return nil
}

// groupNames returns the names of the groups gids that have one (a group
// deleted has none), read in one pipelined round trip of HMGETs of at
// most groupNameBatch fields each.
func (s *Redis) groupNames(ctx context.Context, gids []string) (map[string]any, error) {
	var cmds []*redis.SliceCmd
	_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for from := 0; from < len(gids); from += groupNameBatch {
			cmds = append(cmds, p.HMGet(ctx, s.p+"gname", gids[from:min(from+groupNameBatch, len(gids))]...))
		}
		return nil
	})
	name := make(map[string]any, len(gids))
	for c, cmd := range cmds {
		names, err := cmd.Result()
		if err != nil {
			return nil, fmt.Errorf("store: read group names: %w", err)
		}
		for i, v := range names {
			if _, ok := v.(string); ok {
				name[gids[c*groupNameBatch+i]] = v
			}
		}
	}
	return name, nil
}

// readCmds runs h, d and, when not nil, of: through the read cache when
// the store has one serving and the read need not be fresh (one command
// each: a pipeline bypasses the cache), else in one pipelined round trip.
// Through the cache, they run one after the other when the cache holds
// h's reply (the usual case: a write drops all three, and a read caches
// all three), else all at once, so that a read of a resource just written
// or not read before costs one round trip, not three.
// A missing document key is redis.Nil in d, not an error.
func (s *Redis) readCmds(ctx context.Context, h *redis.SliceCmd, d *redis.StringCmd, of *redis.StringSliceCmd, fresh bool) error {
	if s.rc.Serving() && !fresh {
		if !s.rc.cached(ctx, h.Args()) {
			if of == nil {
				s.rc.processAll(ctx, h, d)
			} else {
				s.rc.processAll(ctx, h, d, of)
			}
			return errors.Join(h.Err(), ignoreNil(d.Err()), cmdErr(of))
		}
		if err := s.rc.client.Process(ctx, h); err != nil {
			return err
		}
		if err := s.rc.client.Process(ctx, d); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if of == nil {
			return nil
		}
		return s.rc.client.Process(ctx, of)
	}
	p, _ := s.pipes.Get().(*readPipe)
	if p == nil {
		p = &readPipe{p: s.c.Pipeline()}
	}
	p.cmds = [3]redis.Cmder{h, d, of}
	n := 3
	if of == nil {
		n = 2
	}
	_ = p.p.BatchProcess(ctx, p.cmds[:n]...)
	_, err := p.p.Exec(ctx)
	p.cmds = [3]redis.Cmder{}
	s.pipes.Put(p) // Exec leaves it empty
	return err
}

// reader is the client of single reads: the read cache's when it serves
// and the read need not be fresh.
func (s *Redis) reader(fresh bool) redis.UniversalClient {
	if s.rc.Serving() && !fresh {
		return s.rc.client
	}
	return s.c
}

// readPipe is a pooled pipeline of getOne with the array its commands are
// passed in (a variadic argument built per call escapes).
type readPipe struct {
	p    redis.Pipeliner
	cmds [3]redis.Cmder
}

// docKey is the key of resource id's document (DocumentKeys).
func (s *Redis) docKey(id string) string { return s.p + "d:" + id }

// mgetDocs queues on p one MGET of the document keys of ids (one command
// instead of a GET each; the keys share the store's hash tag, so Redis
// Cluster takes it): its value i is id i's document key value, nil when
// there is none.
func (s *Redis) mgetDocs(ctx context.Context, p redis.Pipeliner, ids []string) *redis.SliceCmd {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.docKey(id)
	}
	return p.MGet(ctx, keys...)
}

// docInKeyMark is a hash's "doc" when the document is in its key. It is
// not JSON, and to compact documents an unknown alias: a release before
// document keys, which reads only the hash, fails on it (an error, not a
// resource without attributes whose next PATCH would write them so).
const docInKeyMark = "\x01\x00"

// ignoreNil is err unless it is redis.Nil (a missing key or field).
func ignoreNil(err error) error {
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}

// cmdErr is c's error (nil for a nil command).
func cmdErr(c *redis.StringSliceCmd) error {
	if c == nil {
		return nil
	}
	return c.Err()
}

// storedDoc is a resource's stored document from the two places a read
// gets it: its hash's "doc" field hashDoc ("" when absent) and its
// document key's value key ("" when absent). inKey reports that the hash
// does not hold it (no field, or docInKeyMark): doc is then the key's, and
// dv the attribute version the key names ("" without a key), which a
// caller that did not read both in one step compares with the hash's "dv".
func storedDoc(hashDoc, key string) (doc, dv string, inKey bool) {
	if hashDoc != "" && hashDoc != docInKeyMark {
		return hashDoc, "", false
	}
	dv, doc = docValue(key)
	return doc, dv, true
}

// docValue splits a stored document as reads get it: a document key's
// value, "<dv> <JSON>", into the attribute version it was written at and
// the JSON; the hash's "doc" field (JSON, an object) is returned as it is,
// with dv "".
func docValue(v string) (dv, doc string) {
	if v == "" || v[0] < '0' || v[0] > '9' {
		return "", v
	}
	i := strings.IndexByte(v, ' ')
	if i < 0 {
		return "", v
	}
	return v[:i], v[i+1:]
}

// getScript reads one resource with the read script (nil, nil: none).
func (s *Redis) getScript(ctx context.Context, typ, id string, ro ReadOptions) (*Resource, error) {
	rs, err := s.getManyScript(ctx, typ, []string{id}, ro)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	return rs[0], nil
}
