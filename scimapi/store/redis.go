package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/redisfault"
)

// Redis is the Store on Redis (single server, Sentinel or Cluster).
type Redis struct {
	c      redis.UniversalClient
	prefix string
	tag    string // the hash tag without braces, e.g. "scim" or "d:<id>"
	p      string // prefix including the hash tag, e.g. "scimgate:{scim}:"
	now    func() time.Time
	soft   bool
	// plain turns compact resources off (CompactResources).
	plain bool
	// hashDocs turns document keys off (DocumentKeys); lv is the
	// server's hash-max-listpack-value (Listpack).
	hashDocs bool
	lv       *ListpackValue
	// optional holds the ready fields ("<Type>:<attr>") of the optional
	// indexes enabled (EnableIndexes); offFields, per type, those of the
	// disabled ones, comma-separated (the write script clears them).
	optional  map[string]bool
	offFields map[string]string
	indexed   map[string][]string // Indexed, per type
	// ready holds the types whose Backfill this value started (see
	// lookupBackfilled).
	ready sync.Map
	// keyTails caches, per type, the KEYS of the write and delete scripts
	// after the resource's own key (see keys), as a *keyTail: they depend
	// only on the type.
	keyTails sync.Map
	// pipes pools the empty pipelines of getOne (*readPipe, readone.go).
	pipes sync.Pool
	// rc caches reads by id (ReadCache; nil: none).
	rc *ReadCache
}

// ReadCache makes the store read resources by id through rc (nil: from
// Redis every time); the store's writes drop what they change from it
// before they return (forgetWrite). Several stores may share one.
func (s *Redis) ReadCache(rc *ReadCache) *Redis {
	s.rc = rc
	return s
}

// forgetWrite drops from the read cache what a write of the resource typ
// id with member change mc may have changed, whether or not it reports
// success (a write whose reply was lost may have been applied): a User's
// hash and group set; a Group's hash, the group names, and the group sets
// of the members it adds or removes, or everything when it replaces its
// members (the members it drops are not known here). A User's creation
// (created) drops nothing: its id is new, this write's own random UUIDv7,
// so no read can have cached its keys.
func (s *Redis) forgetWrite(typ, id string, mc *MemberChange, created bool) {
	if s.rc == nil {
		return // no key list built on every write without a cache
	}
	if typ != TypeGroup {
		if !created {
			s.rc.forget(s.resKey(id), s.docKey(id), s.p+"of:"+id)
		}
		return
	}
	if mc != nil && mc.Replace {
		s.rc.flush()
		return
	}
	keys := []string{s.resKey(id), s.docKey(id), s.p + "gname"}
	if mc != nil {
		for _, m := range mc.Add {
			keys = append(keys, s.p+"of:"+m.Value)
		}
		for _, mid := range slices.Concat(mc.Remove, mc.RemoveExisting) {
			keys = append(keys, s.p+"of:"+mid)
		}
	}
	s.rc.forget(keys...)
}

// SoftDelete makes Delete keep each deleted resource, outside every index
// and invisible to reads, until PurgeDeleted drops it.
func (s *Redis) SoftDelete() *Redis {
	s.soft = true
	return s
}

// CompactResources sets whether writes store resources compactly, as
// they do unless turned off: the document with its well-known strings
// aliased (compactDoc), the times "c" and "m" as unix nanoseconds instead
// of RFC 3339 text (Redis keeps an integer in 8 bytes), and a creation
// without "m" (lastModified reads as created until the first change).
// Reads take both forms either way. Releases before compact resources
// read neither: turn it off while such gateways share the Redis (a
// rolling upgrade).
func (s *Redis) CompactResources(on bool) *Redis {
	s.plain = !on
	return s
}

// DocumentKeys sets whether writes may store a resource's document (its
// attributes JSON) in a key of its own, d:<id>, as they do unless turned
// off, rather than in the "doc" field of its hash. Redis keeps a hash with
// a value longer than its hash-max-listpack-value (64 bytes by default;
// see Listpack) as a hash table instead of a compact listpack, so a write
// of attributes puts the document in its key when it is longer than that
// and the hash's other fields are not (docInKey): about 300 B less per
// typical user under Redis's default; otherwise in the hash, which saves
// the key. A write of attributes moves the document to where it belongs;
// reads take either place (the hash's field first). Releases before
// document keys read only the hash: turn it off while such gateways share
// the Redis (a rolling upgrade).
func (s *Redis) DocumentKeys(on bool) *Redis {
	s.hashDocs = !on
	return s
}

// Listpack gives the store the server's hash-max-listpack-value, as lv
// knows it (shared, and learnt, by the caller; nil: Redis's default), by
// which writes place documents (DocumentKeys).
func (s *Redis) Listpack(lv *ListpackValue) *Redis {
	s.lv = lv
	return s
}

// docInKey reports whether a write of attributes stores the document doc
// in its own key, given the hash's index fields ix: with document keys on,
// when the document is too long for a listpack hash and the index fields
// are not (with one of them too long the hash is a hash table anyway, and
// the document is best kept in it). The hash's other fields (type,
// versions, times, role) are short.
func (s *Redis) docInKey(doc string, ix [3]string) bool {
	lim := s.lv.Get()
	return !s.hashDocs && len(doc) > lim && len(ix[0]) <= lim && len(ix[1]) <= lim && len(ix[2]) <= lim
}

// EnableIndexes turns on the optional indexes of Users named by attrs
// (see OptionalIndexes; the others stay off, as in a new store). Call it
// before the store is used. An enabled index is written by every write and
// served by Lookup once complete (Backfill); a disabled one is neither, and
// every write of attributes clears its ready marker, so enabling it later
// backfills it again. Every gateway sharing the directory must use the
// same setting.
func (s *Redis) EnableIndexes(attrs ...string) error {
	if err := CheckOptionalIndexes(attrs); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	s.optional = map[string]bool{}
	for _, a := range attrs {
		s.optional[TypeUser+":"+a] = true
	}
	s.offFields = map[string]string{}
	s.indexed = map[string][]string{}
	for _, typ := range []string{TypeUser, TypeGroup} {
		var off []string
		on := []string{"id"}
		for _, ix := range indexesOf(typ) {
			switch {
			case ix.backfill && !s.optional[readyField(typ, ix)]:
				off = append(off, readyField(typ, ix))
			case !ix.legacy:
				on = append(on, ix.attr)
			}
		}
		s.offFields[typ] = strings.Join(off, ",")
		s.indexed[typ] = on
	}
	return nil
}

// enabled reports whether the store maintains index ix of typ.
func (s *Redis) enabled(typ string, ix index) bool {
	return !ix.backfill || s.optional[readyField(typ, ix)]
}

// Indexed implements Store. The caller must not change the slice.
func (s *Redis) Indexed(typ string) []string {
	if out, ok := s.indexed[typ]; ok {
		return out
	}
	return []string{"id"}
}

// NewRedis returns the Store of the default directory on c: its keys start
// with prefix and the hash tag DefaultTag, today's layout.
func NewRedis(c redis.UniversalClient, prefix string) *Redis {
	return NewRedisTagged(c, prefix, DefaultTag)
}

// NewRedisTagged returns a Store on c whose keys start with prefix and the
// hash tag {tag} (the tag without braces; it must not contain braces).
// Each directory has its own tag, so its keys share one Redis Cluster slot
// and different directories spread over the cluster.
func NewRedisTagged(c redis.UniversalClient, prefix, tag string) *Redis {
	s := &Redis{c: c, prefix: prefix, tag: tag, p: prefix + "{" + tag + "}:", now: time.Now}
	_ = s.EnableIndexes() // none: cannot fail
	return s
}

// KeyBase returns the common start of every key of the store, e.g.
// "scimgate:{d:<id>}:" (used to find a directory's keys when it is deleted).
func (s *Redis) KeyBase() string { return s.p }

var _ Store = (*Redis)(nil)

func (s *Redis) resKey(id string) string  { return s.p + "r:" + id }
func (s *Redis) allKey(typ string) string { return s.p + "all:" + typ }
func (s *Redis) ixKey(typ string, ix index) string {
	if ix.unique {
		return s.p + "u:" + typ + ":" + ix.attr
	}
	return s.p + "x:" + typ + ":" + ix.attr
}

// keyTail is the part of the write and delete scripts' KEYS that depends
// only on the type: the type's id set, its index keys, then the audit and
// change-event streams; boxed holds the same keys as command arguments, so
// a write does not convert them again.
type keyTail struct {
	keys  []string
	boxed []any
}

// tail returns the keyTail of typ.
func (s *Redis) tail(typ string) *keyTail {
	if t, ok := s.keyTails.Load(typ); ok {
		return t.(*keyTail)
	}
	t := &keyTail{keys: []string{s.allKey(typ)}}
	for _, ix := range indexesOf(typ) {
		t.keys = append(t.keys, s.ixKey(typ, ix))
	}
	t.keys = append(t.keys, audit.TaggedKey(s.prefix, s.tag), TaggedEventsKey(s.prefix, s.tag))
	for _, k := range t.keys {
		t.boxed = append(t.boxed, k)
	}
	if typ == TypeUser || typ == TypeGroup { // bounded: only the known types
		got, _ := s.keyTails.LoadOrStore(typ, t)
		return got.(*keyTail)
	}
	return t
}

// keys returns the KEYS of the write and delete scripts for one resource:
// the resource, then its type's keyTail.
func (s *Redis) keys(typ, id string) []string {
	t := s.tail(typ).keys
	k := make([]string, 1, 1+len(t))
	k[0] = s.resKey(id)
	return append(k, t...)
}

// evalLine starts the EVALSHA command line of sc for resource id of typ,
// its KEYS included (see keys), with room for nargs ARGV: the caller
// appends them and runs it with runLine. One slice holds the whole
// command, and only the resource's own key is converted per call.
func (s *Redis) evalLine(sc *redis.Script, typ, id string, nargs int) []any {
	t := s.tail(typ).boxed
	line := make([]any, 0, 4+len(t)+nargs)
	line = append(line, "evalsha", sc.Hash(), 1+len(t), s.resKey(id))
	return append(line, t...)
}

// runLine runs an EVALSHA command line of sc ("evalsha", hash, numkeys,
// keys..., args...; evalLine builds the write script's), like sc.Run: when
// Redis does not have the script yet (NOSCRIPT), EVAL sends its source.
// Redis Cluster routes it by its first key, as EvalSha does.
func (s *Redis) runLine(ctx context.Context, sc *redis.Script, line []any) *redis.Cmd {
	cmd := redis.NewCmd(ctx, line...)
	cmd.SetFirstKeyPos(3)
	_ = s.c.Process(ctx, cmd)
	if err := cmd.Err(); err == nil || !(errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")) {
		return cmd
	}
	n := line[2].(int)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = line[3+i].(string)
	}
	return sc.Eval(ctx, s.c, keys, line[3+n:]...)
}

func encodeMembers(mc *MemberChange) (string, error) {
	if mc.Empty() {
		return "", nil
	}
	add := make([][]string, 0, len(mc.Add))
	for _, m := range mc.Add {
		add = append(add, []string{m.Value, m.Display})
	}
	remove := append(append([]string{}, mc.Remove...), mc.RemoveExisting...)
	present := append([]string{}, mc.RemoveExisting...)
	b, err := json.Marshal(map[string]any{"replace": mc.Replace, "add": add, "remove": remove, "present": present})
	return string(b), err
}

// Create implements Store.
func (s *Redis) Create(ctx context.Context, typ string, attrs map[string]any, members []Member, j *Journal) (*Resource, error) {
	return s.CreateCapped(ctx, typ, attrs, members, j, 0)
}

// CreateCapped is Create refusing, in the same atomic step, to create a
// User while the store holds maxUsers or more (*QuotaError; maxUsers <= 0:
// no cap), so concurrent creations never pass the cap.
func (s *Redis) CreateCapped(ctx context.Context, typ string, attrs map[string]any, members []Member, j *Journal, maxUsers int64) (*Resource, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("new id: %w", err)
	}
	var mc *MemberChange
	if len(members) > 0 {
		mc = &MemberChange{Add: members}
	}
	r, _, err := s.write(ctx, typ, id.String(), "create", Condition{}, attrs, mc, j, ReadOptions{Members: typ == TypeGroup, Groups: true}, max(maxUsers, 0))
	var qe *QuotaError
	if errors.As(err, &qe) {
		qe.Max = maxUsers
	}
	return r, err
}

// Update implements Store.
func (s *Redis) Update(ctx context.Context, typ, id string, cond Condition, attrs map[string]any, mc *MemberChange, j *Journal) (*Resource, bool, error) {
	// Members are not read back: a member change must cost time
	// proportional to the change, not to the group.
	return s.write(ctx, typ, id, "update", cond, attrs, mc, j, ReadOptions{Groups: typ == TypeUser}, 0)
}

// replyMargin is how long before the caller's deadline a write script must
// have started: the time its reply has to reach the gateway (and the
// tolerated clock difference between gateway and Redis). A write that
// starts later is refused (DEADLINE) instead of being applied while the
// caller reports failure.
const replyMargin = 250 * time.Millisecond

// guardArgs returns the writeGuard arguments for one write: a fresh write
// token (a resend of the same command by the client library is then
// answered from the first run) and the deadline in unix ms ("0" = none).
func guardArgs(ctx context.Context) (token, deadline string) {
	deadline = "0"
	if d, ok := ctx.Deadline(); ok {
		deadline = strconv.FormatInt(d.Add(-replyMargin).UnixMilli(), 10)
	}
	return uuid.NewString(), deadline
}

// resendPause is the wait between two sends of one write.
const resendPause = 100 * time.Millisecond

// resend runs send, and again with the same arguments (so the same write
// token) while it fails with Redis trouble whose outcome is unknown or
// passing (connection lost, timeout, failover, loading) and the deadline
// leaves time: a write whose first send was applied but whose reply was
// lost (Redis killed and back within the deadline) is then answered with
// its real result instead of a 503, and one that was not applied is
// applied once.
func resend(ctx context.Context, send func() error) error {
	for {
		err := send()
		switch redisfault.Classify(err) {
		case redisfault.Connection, redisfault.Timeout, redisfault.Pool, redisfault.Loading, redisfault.ReadOnly,
			redisfault.MasterDown, redisfault.ClusterDown, redisfault.TryAgain:
		default:
			return err
		}
		if d, ok := ctx.Deadline(); !ok || time.Until(d) < replyMargin+resendPause {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(resendPause):
		}
	}
}

// write runs the write script and returns the resource as the script left
// it: the response is built from what the write returned, so a committed
// write is never reported as failed by a later read. A creation's resource
// may carry attrs itself as its Attrs (see Store.Create).
// maxUsers caps the Users a create may find (0: no cap).
func (s *Redis) write(ctx context.Context, typ, id, mode string, cond Condition, attrs map[string]any, mc *MemberChange, j *Journal, ro ReadOptions, maxUsers int64) (*Resource, bool, error) {
	defer s.forgetWrite(typ, id, mc, mode == "create")
	var full, doc string // the attributes JSON, and as stored
	var ix [3]string
	var gname string
	var entries []any
	if attrs != nil {
		var err error
		if full, err = encodeDoc(attrs); err != nil {
			return nil, false, fmt.Errorf("encode attributes: %w", err)
		}
		doc = full
		if !s.plain {
			doc = compactDoc(full)
		}
		if ix, entries, err = indexArgs(typ, attrs, s.enabled); err != nil {
			return nil, false, fmt.Errorf("encode index entries: %w", err)
		}
		if typ == TypeGroup {
			gname, _ = attrs["displayName"].(string)
		}
	}
	members, err := encodeMembers(mc)
	if err != nil {
		return nil, false, fmt.Errorf("encode members: %w", err)
	}
	now := s.now().UTC()
	ja := encodeJournal(j, id, now, members != "", mode == "create")
	token, deadline := guardArgs(ctx)
	// Small integers and constant strings are ARGV that cost no
	// allocation to pass (Redis receives their decimal text).
	line := s.evalLine(writeScript, typ, id, 27+len(ja.doc)+len(ja.docMembers)+len(ja.members)+len(entries))
	line = append(line, s.p, id, typ, modeArg(mode), cond.Version, now.Format(time.RFC3339Nano),
		doc, ix[0], members, gname, ja.maxLen, cond.AttrVersion,
		token, deadline, flagArg(ro.Members), flagArg(ro.Groups), ix[1], ja.event,
		len(ja.doc), len(ja.docMembers), len(ja.members), ja.changed, ix[2], maxUsers, s.offFields[typ], s.stamp(now),
		flagArg(s.docInKey(doc, ix)))
	line = append(append(append(append(line, ja.doc...), ja.docMembers...), ja.members...), entries...)
	var res []any
	err = resend(ctx, func() error {
		res, err = s.runLine(ctx, writeScript, line).Slice()
		return err
	})
	if err != nil {
		return nil, false, scriptErr(err)
	}
	ch, _ := res[1].(int64)
	if j != nil {
		j.AuditID, _ = res[2].(string)
	}
	fields, _ := res[3].([]any)
	if len(fields) < 9 || fields[0] != typ {
		return nil, false, fmt.Errorf("store: write of %s %s returned no resource", typ, id)
	}
	if err := s.fillGroupNames(ctx, fields); err != nil {
		// the write is committed: answer it, its groups' names as ""
		slog.Warn("store: read group names after a write", "err", err)
	}
	// A write of attributes stored exactly the document encoded from
	// attrs (an update: or had it already), and the script leaves it out
	// of its reply (a resend answered as applied, see createResent and
	// writeGuard, has the document as it is now): answer with attrs itself
	// rather than decoding that document again, when attrs is what
	// decoding would give (jsonNative).
	reply, _ := fields[1].(string)
	if _, stored := docValue(reply); doc != "" && (stored == "" || stored == doc) {
		fields[1] = full // not compact: decodeFields has nothing to expand
	}
	reuse := doc != "" && fields[1] == full && jsonNative(attrs)
	r, err := decodeFields(id, fields, reuse)
	if err != nil {
		return nil, false, err
	}
	if reuse {
		r.Attrs = attrs
	}
	return r, ch == 1, nil
}

// stamp is now as the scripts store "c" and "m" of compact resources
// (unix nanoseconds), or "" when resources are stored plain (RFC 3339).
func (s *Redis) stamp(now time.Time) any {
	if s.plain {
		return ""
	}
	return now.UnixNano()
}

// scriptErr maps the scripts' error replies to the store's errors.
func scriptErr(err error) error {
	msg := strings.TrimPrefix(err.Error(), "ERR ")
	switch {
	case msg == "NOTFOUND":
		return ErrNotFound
	case msg == "VERSION":
		return ErrVersionMismatch
	case strings.HasPrefix(msg, "UNIQUENESS "):
		return &UniquenessError{Attr: strings.TrimPrefix(msg, "UNIQUENESS ")}
	case strings.HasPrefix(msg, "NOMEMBER "):
		return &InvalidMemberError{ID: strings.TrimPrefix(msg, "NOMEMBER ")}
	case strings.HasPrefix(msg, "NOTARGET "):
		return &NoTargetError{ID: strings.TrimPrefix(msg, "NOTARGET ")}
	case msg == "QUOTA":
		return &QuotaError{}
	case msg == "GONE":
		return ErrCreatedThenDeleted
	}
	return fmt.Errorf("store: redis: %w", err)
}

// Delete implements Store.
func (s *Redis) Delete(ctx context.Context, typ, id string, version int64, j *Journal) error {
	now := s.now().UTC()
	ja := encodeJournal(j, id, now, false, false)
	soft := ""
	if s.soft {
		soft = strconv.FormatInt(now.UnixMilli(), 10)
	}
	token, deadline := guardArgs(ctx)
	var aid string
	// A deletion also changes the deleted resource's groups or members,
	// which are not known here: the whole read cache goes.
	defer s.rc.flush()
	args := append([]any{s.p, id, strconv.FormatInt(version, 10),
		now.Format(time.RFC3339Nano), typ, ja.maxLen, soft, token, deadline, ja.event, s.stamp(now)}, ja.doc...)
	err := resend(ctx, func() error {
		var err error
		aid, err = deleteScript.Run(ctx, s.c, s.keys(typ, id), args...).Text()
		return err
	})
	if err != nil {
		return scriptErr(err)
	}
	if j != nil {
		j.AuditID = aid
	}
	return nil
}

// Get implements Store.
func (s *Redis) Get(ctx context.Context, typ, id string, ro ReadOptions) (*Resource, error) {
	r, err := s.getOne(ctx, typ, id, ro)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, ErrNotFound
	}
	return r, nil
}

// ReadBatch is the most resources one step of GetMany and Scan reads: one
// pipeline of plain commands (getManyPlain), or one read script (a Group
// with its members, a resource read again), which holds Redis while it
// runs (about 7 µs per resource without derived data); other clients get
// in between steps.
const ReadBatch = 100

// GetMany implements Store; it reads in steps of at most ReadBatch with
// plain commands (getOne for one resource, getManyPlain for more).
func (s *Redis) GetMany(ctx context.Context, typ string, ids []string, ro ReadOptions) ([]*Resource, error) {
	if len(ids) == 1 {
		r, err := s.getOne(ctx, typ, ids[0], ro)
		if err != nil || r == nil {
			return nil, err
		}
		return []*Resource{r}, nil
	}
	return s.getManyPlain(ctx, typ, ids, ro)
}

// getManyScript reads ids with the read script, ReadBatch at a time.
func (s *Redis) getManyScript(ctx context.Context, typ string, ids []string, ro ReadOptions) ([]*Resource, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out := make([]*Resource, 0, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), ReadBatch)]
		ids = ids[len(chunk):]
		keys := make([]string, len(chunk))
		for i, id := range chunk {
			keys[i] = s.resKey(id)
		}
		raw, err := readScript.Run(ctx, s.c, keys, s.p, flag(ro.Members), flag(ro.Groups)).Slice()
		if err != nil {
			return nil, fmt.Errorf("store: read: %w", err)
		}
		all := make([][]any, len(raw))
		for i, e := range raw {
			all[i], _ = e.([]any)
		}
		if err := s.fillGroupNames(ctx, all...); err != nil {
			return nil, err
		}
		for i, e := range raw {
			fields, _ := e.([]any)
			if len(fields) < 9 || fields[0] != typ {
				continue
			}
			r, err := decodeFields(chunk[i], fields, ro.RawOnly)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func flagInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// flagArg is flag as a command argument (constant: no allocation).
func flagArg(b bool) any {
	if b {
		return "1"
	}
	return "0"
}

// modeArg is the write script's mode argument (constant: no allocation).
func modeArg(mode string) any {
	if mode == "create" {
		return "create"
	}
	return "update"
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Lookup implements Store.
func (s *Redis) Lookup(ctx context.Context, typ, attr, value string) ([]string, error) {
	if attr == "id" {
		n, err := s.c.Exists(ctx, s.resKey(value)).Result()
		if err != nil {
			return nil, fmt.Errorf("store: lookup id: %w", err)
		}
		if n == 0 {
			return nil, nil
		}
		return []string{value}, nil
	}
	var ids []string
	seen := map[string]bool{}
	found := false
	for _, ix := range indexesOf(typ) {
		if ix.attr != attr {
			continue
		}
		if !s.enabled(typ, ix) {
			continue
		}
		found = true
		got, err := s.lookupIndex(ctx, typ, ix, value)
		if errors.Is(err, ErrIndexBuilding) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("store: lookup %s: %w", attr, err)
		}
		for _, id := range got {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("store: %s.%s is not indexed", typ, attr)
	}
	return ids, nil
}

// lookupIndex returns the ids that index ix maps value to.
func (s *Redis) lookupIndex(ctx context.Context, typ string, ix index, value string) ([]string, error) {
	value = ix.norm(value)
	key := s.ixKey(typ, ix)
	if ix.unique {
		id, err := s.c.HGet(ctx, key, value).Result()
		if errors.Is(err, redis.Nil) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []string{id}, nil
	}
	lo, hi := "["+value+"\x00", "["+value+"\x00\xff"
	if ix.backfill {
		return s.lookupBackfilled(ctx, typ, ix, key, value, lo, hi)
	}
	members, err := s.c.ZRangeByLex(ctx, key, &redis.ZRangeBy{Min: lo, Max: hi}).Result()
	if err != nil {
		return nil, err
	}
	return entryIDs(members, value), nil
}

// entryIDs returns the ids of the non-unique index entries members of value.
func entryIDs(members []string, value string) []string {
	ids := make([]string, 0, len(members))
	for _, m := range members {
		ids = append(ids, m[len(value)+1:])
	}
	return ids
}

// Scan implements Store.
func (s *Redis) Scan(ctx context.Context, typ, after string, batch int, ro ReadOptions, fn func([]*Resource) (bool, error)) error {
	min := "-"
	if after != "" {
		min = "(" + after
	}
	for {
		ids, err := s.c.ZRangeByLex(ctx, s.allKey(typ), &redis.ZRangeBy{Min: min, Max: "+", Count: int64(batch)}).Result()
		if err != nil {
			return fmt.Errorf("store: scan %s: %w", typ, err)
		}
		if len(ids) == 0 {
			return nil
		}
		rs, err := s.GetMany(ctx, typ, ids, ro)
		if err != nil {
			return err
		}
		more, err := fn(rs)
		if err != nil || !more || len(ids) < batch {
			return err
		}
		min = "(" + ids[len(ids)-1]
	}
}

// IDs implements Store.
func (s *Redis) IDs(ctx context.Context, typ, after string, offset, limit int) ([]string, error) {
	min := "-"
	if after != "" {
		min = "(" + after
	}
	ids, err := s.c.ZRangeByLex(ctx, s.allKey(typ), &redis.ZRangeBy{Min: min, Max: "+", Offset: int64(offset), Count: int64(limit)}).Result()
	if err != nil {
		return nil, fmt.Errorf("store: ids of %s: %w", typ, err)
	}
	return ids, nil
}

// Count implements Store.
func (s *Redis) Count(ctx context.Context, typ string) (int64, error) {
	n, err := s.c.ZCard(ctx, s.allKey(typ)).Result()
	if err != nil {
		return 0, fmt.Errorf("store: count %s: %w", typ, err)
	}
	return n, nil
}

// SetRoles implements Store.
func (s *Redis) SetRoles(ctx context.Context, roles map[string]string, auditID string, maxLen int64) ([]RoleChange, error) {
	if len(roles) == 0 {
		return nil, nil
	}
	if maxLen <= 0 {
		maxLen = 1_000_000
	}
	keys := make([]string, 0, len(roles)+1)
	args := []any{s.now().UTC().Format(time.RFC3339Nano), maxLen, auditID}
	for id, role := range roles {
		keys = append(keys, s.resKey(id))
		args = append(args, role)
	}
	defer s.rc.forget(keys...) // the users' hashes (the events key appended below is not in this slice)
	keys = append(keys, TaggedEventsKey(s.prefix, s.tag))
	raw, err := setRolesScript.Run(ctx, s.c, keys, args...).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("store: set roles: %w", err)
	}
	var out []RoleChange
	for i := 0; i+2 < len(raw); i += 3 {
		out = append(out, RoleChange{ID: raw[i], Old: raw[i+1], New: raw[i+2]})
	}
	return out, nil
}

// PurgeDeleted implements Store.
func (s *Redis) PurgeDeleted(ctx context.Context, before time.Time) (int, error) {
	// Nothing to drop from a read cache: a purge removes only deleted:<id>
	// keys, which are never read by id.
	total := 0
	for {
		n, err := purgeScript.Run(ctx, s.c, []string{s.p + "deleted"}, s.p, before.UnixMilli(), 500).Int()
		if err != nil {
			return total, fmt.Errorf("store: purge: %w", err)
		}
		total += n
		if n < 500 {
			return total, nil
		}
	}
}
