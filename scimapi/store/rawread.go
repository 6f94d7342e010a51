package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/scimapi/filter"
)

// DecodeAttrs fills Attrs from Doc when a read left it nil
// (ReadOptions.RawOnly); it does nothing when Attrs is already set.
func (r *Resource) DecodeAttrs() error {
	if r.Attrs != nil || r.Doc == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(r.Doc), &r.Attrs); err != nil {
		return fmt.Errorf("store: decode %s: %w", r.ID, err)
	}
	return nil
}

// decodeFields turns one resource as the read scripts return it into a
// Resource, its document expanded (expandDoc) and a missing lastModified
// read as created; with raw, Attrs is left for DecodeAttrs.
func decodeFields(id string, f []any, raw bool) (*Resource, error) {
	str := func(i int) string { s, _ := f[i].(string); return s }
	_, doc := docValue(str(1))
	doc, err := expandDoc(doc)
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", id, err)
	}
	r := &Resource{Type: str(0), ID: id, Doc: doc}
	if !raw {
		if err := r.DecodeAttrs(); err != nil {
			return nil, err
		}
	}
	r.Role = str(7)
	r.AttrVersion, _ = strconv.ParseInt(str(8), 10, 64)
	r.Version, _ = strconv.ParseInt(str(2), 10, 64)
	r.Created = parseStamp(str(3))
	if m := str(4); m != "" {
		r.Modified = parseStamp(m)
	} else {
		r.Modified = r.Created
	}
	groups, _ := f[5].([]any)
	for i := 0; i+1 < len(groups); i += 2 {
		gid, _ := groups[i].(string)
		name, _ := groups[i+1].(string)
		r.Groups = append(r.Groups, Member{Value: gid, Type: TypeGroup, Display: name})
	}
	members, _ := f[6].([]any)
	if len(members) > 0 {
		r.Members = make([]Member, 0, len(members)/2)
	}
	for i := 0; i+1 < len(members); i += 2 {
		mid, _ := members[i].(string)
		raw, _ := members[i+1].(string)
		m := Member{Value: mid}
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, fmt.Errorf("store: decode member of %s: %w", id, err)
		}
		m.Value = mid
		r.Members = append(r.Members, m)
	}
	return r, nil
}

// parseStamp reads a stored time: unix nanoseconds (compact resources)
// or RFC 3339 text; the zero time when it is neither.
func parseStamp(s string) time.Time {
	if len(s) > 4 && s[4] == '-' { // 2006-01-02T…
		t, _ := time.Parse(time.RFC3339Nano, s)
		return t
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// uniqueIndex returns the one index of typ serving attr when it is unique
// (every resource's entry is there, at most one id per value).
func uniqueIndex(typ, attr string) (index, bool) {
	var found []index
	for _, ix := range indexesOf(typ) {
		if ix.attr == attr {
			found = append(found, ix)
		}
	}
	if len(found) != 1 || !found[0].unique {
		return index{}, false
	}
	return found[0], true
}

// LookupGet is Lookup followed by GetMany, for an attribute with a unique
// index (User userName): it returns the resource whose attr equals value,
// as the index normalises it (none or one). Without the read cache, or
// with ro.Fresh, it reads both in one script; while the cache serves, see
// lookupCached (the resource may be a stale copy). ok is false, and
// nothing is read, when attr has no unique index; use Lookup and GetMany
// then.
func (s *Redis) LookupGet(ctx context.Context, typ, attr, value string, ro ReadOptions) (rs []*Resource, ok bool, err error) {
	ix, ok := uniqueIndex(typ, attr)
	if !ok {
		return nil, false, nil
	}
	value = ix.norm(value)
	if s.rc.Serving() && !ro.Fresh {
		return s.lookupCached(ctx, typ, s.ixKey(typ, ix), value, ro)
	}
	raw, err := s.lookupRead(ctx, s.ixKey(typ, ix), value, ro)
	if err != nil {
		return nil, true, fmt.Errorf("store: lookup %s: %w", attr, err)
	}
	if len(raw) < 2 {
		return nil, true, nil
	}
	id, _ := raw[0].(string)
	fields, _ := raw[1].([]any)
	if len(fields) < 9 || fields[0] != typ {
		return nil, true, nil
	}
	if err := s.fillGroupNames(ctx, fields); err != nil {
		return nil, true, err
	}
	r, err := decodeFields(id, fields, ro.RawOnly)
	if err != nil {
		return nil, true, err
	}
	return []*Resource{r}, true, nil
}

// lookupCached is LookupGet while the read cache serves: the index entry
// is read from Redis with one HGET (never cached: every write of the type
// changes the index hash, so a cached entry would be dropped at once), and
// the resource it names by id as Get reads it, usually from the cache. A
// lookup then costs Redis one plain command instead of a script, the
// lookup that finds nothing (an IdP's check before a creation) as well.
// The index entry and the resource are not read in one step, and the
// resource may be as stale as a cached read by id (a change made through
// another replica, until its invalidation arrives): a user renamed there
// is found by its new name with its old attributes. A caller that finds
// the resource does not hold value (the SCIM handler matches it against
// the filter) asks again with ReadOptions.Fresh, which reads both in one
// script, as without the cache.
func (s *Redis) lookupCached(ctx context.Context, typ, key, value string, ro ReadOptions) ([]*Resource, bool, error) {
	id, err := s.c.HGet(ctx, key, value).Result()
	if errors.Is(err, redis.Nil) {
		return nil, true, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("store: lookup: %w", err)
	}
	r, err := s.getOne(ctx, typ, id, ro)
	if err != nil || r == nil {
		return nil, true, err
	}
	return []*Resource{r}, true, nil
}

// lookupReadSHA is lookupRead's script hash, boxed once.
var lookupReadSHA any = lookupReadScript.Hash()

// lookupRead runs lookupReadScript on the index key and value from one
// command line (runLine: EVALSHA, then EVAL when Redis lacks the script),
// without Run's copies of the keys and arguments.
func (s *Redis) lookupRead(ctx context.Context, key, value string, ro ReadOptions) ([]any, error) {
	line := []any{"evalsha", lookupReadSHA, 1, key, s.p, value, flagArg(ro.Members), flagArg(ro.Groups)}
	return s.runLine(ctx, lookupReadScript, line).Slice()
}

// Needle is a text that the stored attributes JSON of every resource a
// scan wants contains: literally, or with Fold (Text lower-case ASCII)
// ASCII-case-insensitively (filter.ContainsFold).
type Needle = filter.Needle

// minAnchor is the length of the longest literal anchor (see anchors) from
// which a scan judges documents in Redis: a shorter text is in too many
// documents to be worth the script's cost per document over plain reads.
// A folded anchor alone never is: lower-casing every document in the
// script costs Redis more than sending it.
const minAnchor = 4

// anchor is a text every document a scan wants contains: literally, or
// (fold) as scanDocsScript's ASCII-case-insensitive search finds it.
type anchor struct {
	text string
	fold bool
}

// anchors returns texts every document containing the needles contains:
// a literal needle's text; a folded needle's text as a folded anchor (a
// literal one when it holds no ASCII letter: only letters fold) and its
// longest run of at least two characters that are not ASCII letters as a
// literal one (only letters fold: the non-ASCII runes the filter's
// comparisons equate with ASCII ones, filter.ContainsFold's K, ſ and İ,
// stand for letters). Literal anchors come first, the longest first: they
// are cheaper to look for, and a folded one is looked for only in the
// documents that contain them. ok is false when the longest literal anchor
// is shorter than minAnchor. A needle holding '"' gives none (filter's never
// do): in a compact document it may straddle an alias (see
// scanDocsScript).
func anchors(needles []Needle) (out []anchor, ok bool) {
	longest := 0
	for _, n := range needles {
		if strings.Contains(n.Text, `"`) {
			continue
		}
		if !n.Fold || !strings.ContainsFunc(n.Text, isLetter) {
			out = append(out, anchor{text: n.Text})
			longest = max(longest, len(n.Text))
			continue
		}
		out = append(out, anchor{text: n.Text, fold: true})
		run := ""
		for _, r := range strings.FieldsFunc(n.Text, isLetter) {
			if len(r) > len(run) {
				run = r
			}
		}
		if len(run) >= 2 {
			out = append(out, anchor{text: run})
			longest = max(longest, len(run))
		}
	}
	slices.SortStableFunc(out, func(a, b anchor) int {
		if a.fold != b.fold {
			if a.fold {
				return 1
			}
			return -1
		}
		return len(b.text) - len(a.text)
	})
	return out, longest >= minAnchor
}

// isLetter reports whether r is a lower-case ASCII letter (folded texts
// are lower-case).
func isLetter(r rune) bool { return r >= 'a' && r <= 'z' }

// scanDocsScript reads one step of an anchored scan (see ScanDocs): the
// next ids of a type in id order and, of those, the documents that contain
// every anchor, or an escape that encoding/json does not write for plain
// text (\u00…, \/: filter.MayMatch does not judge those). The rest never
// cross the network.
//
// A folded anchor (lower-case ASCII) is looked for in the document with
// its ASCII letters lower-cased (string.lower: Redis's Lua runs in the C
// locale, so only ASCII letters change). A document holding one of the
// non-ASCII runes that filter.ContainsFold equates with an ASCII letter
// (K U+212A, ſ U+017F, İ U+0130) is not judged on its folded anchors.
//
// A compact document (compactDoc) contains an anchor when its JSON does:
// literally outside its aliases (an anchor is ASCII without '"', so it
// never spans an alias's quotes, and the alias bytes are not ASCII, nor
// changed by string.lower), or inside one, which the alias's two bytes
// stand for.
//
//	KEYS[1] all:<Type>
//	ARGV[1] key prefix  ARGV[2] ZRANGEBYLEX min ("-" or "(<last id>")
//	ARGV[3] step size  ARGV[4..] per anchor: the anchor, "f" when it is
//	        folded (else ""), then the aliases containing it (their two
//	        bytes each, concatenated; "" = none)
//
// Returns {ids read, last id read or "", id, document, ...}.
var scanDocsScript = redis.NewScript(luaDocOf + `
local p = ARGV[1]
local ids = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[2], '+', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {#ids, ids[#ids] or ''}
-- the document keys' values as they are (their "<dv> " prefix may match
-- an anchor: the caller judges exactly), with one MGET per 500 keys, then
-- the hash's document of each resource without a key (see ScanDocs on
-- why the key comes first here)
local docs, dkeys = {}, {}
for i, id in ipairs(ids) do dkeys[i] = p .. 'd:' .. id end
for from = 1, #dkeys, 500 do
  local vals = redis.call('MGET', unpack(dkeys, from, math.min(from + 499, #dkeys)))
  for j = 1, #vals do docs[from + j - 1] = vals[j] end
end
for i, id in ipairs(ids) do
  if not docs[i] then
    local hd = redis.call('HGET', p .. 'r:' .. id, 'doc')
    if not inKey(hd) then docs[i] = hd end
  end
end
for i, id in ipairs(ids) do
  local doc = docs[i]
  if doc then
    local take = true
    if not (string.find(doc, '\\u00', 1, true) or string.find(doc, '\\/', 1, true)) then
      -- low: the document lower-cased; false: it holds a rune that folds
      -- to an ASCII letter, so folded anchors are not judged
      local low
      for i = 4, #ARGV, 3 do
        local hay = doc
        if ARGV[i + 1] ~= '' then
          if low == nil then
            if string.find(doc, '\226\132\170', 1, true) or string.find(doc, '\197\191', 1, true) or string.find(doc, '\196\176', 1, true) then
              low = false
            else
              low = string.lower(doc)
            end
          end
          hay = low
        end
        if hay and not string.find(hay, ARGV[i], 1, true) then
          local alts, found = ARGV[i + 2], false
          for k = 1, #alts, 2 do
            if string.find(doc, string.sub(alts, k, k + 1), 1, true) then
              found = true
              break
            end
          end
          if not found then
            take = false
            break
          end
        end
      end
    end
    if take then
      out[#out + 1] = id
      out[#out + 1] = doc
    end
  end
end
return out
`)

// mayContain is filter.MayMatch of a stored document, compact or not,
// without expanding it: a needle (no '"' in it) is in the expanded JSON
// either outside the aliases, where the stored bytes are the same, or
// inside one, which alts[i] (aliasesContaining) lists for needles[i].
func mayContain(doc string, needles []Needle, alts []string) bool {
	if strings.IndexByte(doc, aliasMark) < 0 {
		return filter.MayMatch(doc, needles)
	}
	if strings.Contains(doc, `\u00`) || strings.Contains(doc, `\/`) {
		return true
	}
	for i, n := range needles {
		if filter.MayMatch(doc, needles[i:i+1]) || strings.Contains(n.Text, `"`) {
			continue
		}
		found := false
		for k := 0; k+1 < len(alts[i]) && !found; k += 2 {
			found = strings.Contains(doc, alts[i][k:k+2])
		}
		if !found {
			return false
		}
	}
	return true
}

// scanDocsSHA is scanDocsScript's hash, boxed once.
var scanDocsSHA any = scanDocsScript.Hash()

// ScanDocs visits the resources of typ in id order, in steps of at most
// batch resources, until fn returns false or an error. fn gets each step's
// resources whose stored document may contain every needle (all of them
// when needles is empty), with Type, ID and Doc (the stored attributes
// JSON; Attrs nil), for the caller to judge exactly (filter.MayMatch) and
// read in full with GetMany; scanned is how many the step read.
//
// When the needles give an anchor (anchors), a step is one script that
// reads the documents and passes on only those containing every anchor,
// so documents a filter cannot match never cross the network; batch
// bounds how long the script holds Redis. Otherwise a step is one
// pipeline of one HGET per resource, one MGET of their document keys and
// the ZRANGEBYLEX of the next step: Redis is never held for more than one
// short command, and the documents lacking a needle are dropped before
// they are expanded.
//
// The script reads the document keys first (one MGET), and the hashes
// only of the resources without one: that halves its Redis commands,
// which cost more than its judging. Everywhere else the hash's document
// wins over the key's (see storedDoc); the two differ only when a
// release before document keys rewrote the hash of a resource whose
// document is in its key, which none of its SCIM writes does, as each
// reads the resource first and fails on the hash's mark. Were it to
// happen, such a resource would be judged on its key's older document.
// The scan only preselects: what it passes on is read again with
// GetMany, which takes the hash's, and matched.
func (s *Redis) ScanDocs(ctx context.Context, typ string, batch int, needles []Needle, fn func(scanned int, rs []*Resource) (bool, error)) error {
	an, ok := anchors(needles)
	if !ok {
		return s.scanAllDocs(ctx, typ, batch, needles, fn)
	}
	line := make([]any, 0, 7+3*len(an))
	line = append(line, "evalsha", scanDocsSHA, 1, s.allKey(typ), s.p, "-", batch)
	for _, a := range an {
		fold := ""
		if a.fold {
			fold = "f"
		}
		line = append(line, a.text, fold, aliasesContaining(a))
	}
	for {
		reply, err := s.runLine(ctx, scanDocsScript, line).Slice()
		if err != nil {
			return fmt.Errorf("store: scan %s: %w", typ, err)
		}
		if len(reply) < 2 {
			return fmt.Errorf("store: scan %s: short reply", typ)
		}
		scanned, _ := reply[0].(int64)
		last, _ := reply[1].(string)
		rs := make([]*Resource, 0, (len(reply)-2)/2)
		for i := 2; i+1 < len(reply); i += 2 {
			id, _ := reply[i].(string)
			_, doc := docValue(reply[i+1].(string))
			doc, err := expandDoc(doc)
			if err != nil {
				return fmt.Errorf("store: scan %s %s: %w", typ, id, err)
			}
			rs = append(rs, &Resource{Type: typ, ID: id, Doc: doc})
		}
		if more, err := fn(int(scanned), rs); err != nil || !more || int(scanned) < batch {
			return err
		}
		line[5] = "(" + last
	}
}

// scanAllDocs is ScanDocs without anchors in Redis: every document of
// each step is read, and those lacking a needle dropped here (mayContain).
func (s *Redis) scanAllDocs(ctx context.Context, typ string, batch int, needles []Needle, fn func(scanned int, rs []*Resource) (bool, error)) error {
	alts := make([]string, len(needles))
	for i, n := range needles {
		alts[i] = aliasesContaining(anchor{text: n.Text, fold: n.Fold})
	}
	ids, err := s.c.ZRangeByLex(ctx, s.allKey(typ), &redis.ZRangeBy{Min: "-", Max: "+", Count: int64(batch)}).Result()
	if err != nil {
		return fmt.Errorf("store: scan %s: %w", typ, err)
	}
	for len(ids) > 0 {
		// the hash's document, else the document key's (DocumentKeys):
		// the keys in one MGET
		docs := make([]*redis.StringCmd, len(ids))
		var keyed *redis.SliceCmd
		var next *redis.StringSliceCmd
		_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				docs[i] = p.HGet(ctx, s.resKey(id), "doc")
			}
			keyed = s.mgetDocs(ctx, p, ids)
			if len(ids) == batch {
				next = p.ZRangeByLex(ctx, s.allKey(typ), &redis.ZRangeBy{Min: "(" + ids[len(ids)-1], Max: "+", Count: int64(batch)})
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("store: scan %s: %w", typ, err)
		}
		rs := make([]*Resource, 0, len(ids))
		var again []string // documents moved between the HGET and the GET
		if err := keyed.Err(); err != nil {
			return fmt.Errorf("store: scan %s: %w", typ, err)
		}
		for i := range ids {
			hd, herr := docs[i].Result()
			if err := ignoreNil(herr); err != nil {
				return fmt.Errorf("store: scan %s: %w", typ, err)
			}
			kv, _ := keyed.Val()[i].(string)
			doc, _, inKey := storedDoc(hd, kv)
			switch {
			case doc == "" && inKey && herr == nil:
				// the hash names its key, which had gone by the GET
				again = append(again, ids[i])
				continue
			case doc == "": // deleted in between
				continue
			case !mayContain(doc, needles, alts):
				continue
			}
			doc, err := expandDoc(doc)
			if err != nil {
				return fmt.Errorf("store: scan %s %s: %w", typ, ids[i], err)
			}
			rs = append(rs, &Resource{Type: typ, ID: ids[i], Doc: doc})
		}
		if len(again) > 0 {
			// read in one script each: the ones still existing, in id order
			rr, err := s.getManyScript(ctx, typ, again, ReadOptions{RawOnly: true})
			if err != nil {
				return fmt.Errorf("store: scan %s: %w", typ, err)
			}
			for _, r := range rr {
				rs = append(rs, &Resource{Type: typ, ID: r.ID, Doc: r.Doc})
			}
			slices.SortFunc(rs, func(a, b *Resource) int { return strings.Compare(a.ID, b.ID) })
		}
		if more, err := fn(len(ids), rs); err != nil || !more || next == nil {
			return err
		}
		if ids, err = next.Result(); err != nil {
			return fmt.Errorf("store: scan %s: %w", typ, err)
		}
	}
	return nil
}
