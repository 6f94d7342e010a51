package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/scimapi/filter"
)

// IndexScanner is implemented by stores that find the candidates of a
// substring comparison in an attribute's index (see Redis.ScanIndex).
type IndexScanner interface {
	ScanIndex(ctx context.Context, typ string, m filter.TextMatch, step int) (ids []string, ok bool, err error)
}

var (
	_ IndexScanner = (*Redis)(nil)
	_ IndexScanner = (*quotaStore)(nil)
)

// ScanIndex passes to the wrapped store (ok false when it cannot).
func (q *quotaStore) ScanIndex(ctx context.Context, typ string, m filter.TextMatch, step int) ([]string, bool, error) {
	if is, ok := q.Store.(IndexScanner); ok {
		return is.ScanIndex(ctx, typ, m, step)
	}
	return nil, false, nil
}

// ScanIndex returns, in id order, the ids of typ one of whose values of
// m.Attr may satisfy m: every resource whose value does (as the filter
// compares it: filter.TextMatch) and possibly others, which the caller
// reads and matches. It reads the attribute's index instead of the
// documents: an index entry is the value alone, case-folded (norm), so
// Redis judges it (the glob MATCH of HSCAN for a hash, a script reading a
// sorted index in order), and only the entries that may match cross the
// network; a prefix (sw) of a sorted index is one ZRANGEBYLEX range. Each
// command reads about step entries, 1-2 µs of Redis CPU each.
//
// ok is false when no index can answer: the attribute has none, its
// index is not case-folded (externalId), is disabled, or is a backfilled
// one not marked complete (a Backfill is then started, as Lookup does).
// The marker is read before the first command and after the last, and a
// change in between also answers ok false: a gateway with the index off
// wrote meanwhile, and its entries may be missing. (A backfill completed
// within the scan would set it again unseen; that takes a whole backfill
// during one request, after a gateway with the index off wrote.)
//
// Like every scan, it is not a snapshot, and it is weaker than a document
// scan, which walks the ids: a resource whose value changes during the
// scan from one that matches to another that matches may be missed, when
// the old entry is dropped ahead of the scan's position and the new one
// added behind it (a hash field that comes and goes during an HSCAN
// likewise). A resource whose value does not change during the scan is
// always found.
//
// Why the folded entries hold every match (TestScanIndexFindsEveryMatch
// checks it over generated values): Text is ASCII. A case-insensitive
// sw or ew compares a slice of the value of Text's length in bytes with
// strings.EqualFold, which is true only when the slice is ASCII too,
// and ASCII folds to lower case under both normalisations (strings.ToLower
// and foldKey). A case-insensitive co compares the value lower-cased with
// strings.ToLower (an ASCII value: EqualFold of each slice, the same),
// whose non-ASCII runes mapping onto an ASCII letter
// are the Kelvin sign (k) and the capital I with dot above (i): the
// ToLower indexes hold exactly the ToLower value, and foldKey maps the
// Kelvin sign to k but keeps İ, so on a foldKey index an entry holding İ
// is a candidate of every co whose Text has an i.
func (s *Redis) ScanIndex(ctx context.Context, typ string, m filter.TextMatch, step int) ([]string, bool, error) {
	ix, ok := s.scannableIndex(typ, m.Attr)
	if !ok || m.Text == "" {
		return nil, false, nil
	}
	step = max(step, 1)
	if ix.backfill {
		if ready, err := s.indexReady(ctx, typ, ix); err != nil || !ready {
			if err == nil {
				s.startBackfill(ctx, typ)
			}
			return nil, false, err
		}
	}
	key := s.ixKey(typ, ix)
	seen := map[string]struct{}{}
	var ids []string
	add := func(id string) {
		if _, dup := seen[id]; !dup {
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	var err error
	switch {
	case ix.unique: // a hash: field the value, value the id
		err = s.scanHash(ctx, key, textGlob(m), step, add)
	case m.Op == fp.SW:
		err = s.rangeIndex(ctx, key, m.Text, step, add)
	default: // a sorted set of "<value>\x00<id>"
		// an index whose normalisation keeps İ (foldKey) holds a value
		// that strings.ToLower takes to an i as İ
		dotted := m.Op == fp.CO && strings.Contains(m.Text, "i") && ix.norm("\u0130") != "i"
		err = s.judgeIndex(ctx, key, m, dotted, step, add)
	}
	if err != nil {
		return nil, true, fmt.Errorf("store: scan the %s index of %s: %w", m.Attr, typ, err)
	}
	if ix.backfill {
		if ready, err := s.indexReady(ctx, typ, ix); err != nil || !ready {
			return nil, false, err
		}
	}
	slices.Sort(ids)
	return ids, true, nil
}

// scannableIndex is the index of typ's attr that ScanIndex reads: a
// case-folded one the store keeps.
func (s *Redis) scannableIndex(typ, attr string) (index, bool) {
	for _, ix := range indexesOf(typ) {
		if ix.attr == attr && ix.fold && !ix.legacy && s.enabled(typ, ix) {
			return ix, true
		}
	}
	return index{}, false
}

// indexReady reports whether backfilled index ix of typ is marked complete.
func (s *Redis) indexReady(ctx context.Context, typ string, ix index) (bool, error) {
	v, err := s.c.HGet(ctx, s.readyKey(), readyField(typ, ix)).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: read index marker: %w", err)
	}
	return v == readyValue, nil
}

// textGlob is the MATCH pattern of the values that may satisfy m: Text
// escaped, with * for what may come before and after it.
func textGlob(m filter.TextMatch) string {
	var b strings.Builder
	if m.Op != fp.SW {
		b.WriteByte('*')
	}
	for i := 0; i < len(m.Text); i++ {
		switch c := m.Text[i]; c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	if m.Op != fp.EW {
		b.WriteByte('*')
	}
	return b.String()
}

// scanHash passes to add the values (ids) of the fields of hash index key
// that match pattern: HSCAN with MATCH and COUNT step until its cursor
// comes back to 0. An id may come twice (SCAN guarantees only that a field
// present throughout comes); add drops repeats.
func (s *Redis) scanHash(ctx context.Context, key, pattern string, step int, add func(id string)) error {
	var cursor uint64
	for {
		fields, next, err := s.c.HScan(ctx, key, cursor, pattern, int64(step)).Result()
		if err != nil {
			return err
		}
		for i := 1; i < len(fields); i += 2 {
			add(fields[i])
		}
		if next == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		cursor = next
	}
}

// judgeIndexScript reads the next entries of a sorted index and returns
// those whose value (before the entry's last NUL: "<value>\x00<id>")
// contains ARGV[3] (co) or ends with it (ew), or, with ARGV[4] = "1",
// holds İ (U+0130).
//
//	KEYS[1] the index  ARGV[1] ZRANGEBYLEX min  ARGV[2] step size
//	ARGV[3] the text  ARGV[4] "1": take entries holding İ  ARGV[5] "ew"
//
// Returns {entries read, last entry read or "", entry, ...}. A ZSCAN with
// a MATCH pattern judges in C but costs Redis about twice the CPU per
// entry (it formats every visited score); reading the entries out costs
// half as much again but sends every entry over the network.
var judgeIndexScript = redis.NewScript(`
local es = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {#es, es[#es] or ''}
local t, dotted = ARGV[3], ARGV[4] == '1'
if ARGV[5] == 'ew' then t = t .. '\0' end
for i = 1, #es do
  local e = es[i]
  local at = string.find(e, t, 1, true)
  if (at and string.find(e, '\0', at + #ARGV[3], true)) or (dotted and string.find(e, '\196\176', 1, true)) then
    out[#out + 1] = e
  end
end
return out
`)

// judgeIndex passes to add the ids of the entries of sorted index key
// whose value may satisfy m (co or ew), Redis judging step entries a
// script run (judgeIndexScript); with dotted, also of those holding İ.
func (s *Redis) judgeIndex(ctx context.Context, key string, m filter.TextMatch, dotted bool, step int, add func(id string)) error {
	lo := "-"
	take := ""
	if dotted {
		take = "1"
	}
	for {
		reply, err := judgeIndexScript.Run(ctx, s.c, []string{key}, lo, step, m.Text, take, string(m.Op)).Slice()
		if err != nil {
			return err
		}
		if len(reply) < 2 {
			return errors.New("short reply")
		}
		for _, e := range reply[2:] {
			if e, _ := e.(string); strings.LastIndexByte(e, 0) >= 0 {
				add(e[strings.LastIndexByte(e, 0)+1:])
			}
		}
		if n, _ := reply[0].(int64); n < int64(step) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		last, _ := reply[1].(string)
		lo = "(" + last
	}
}

// rangeIndex passes to add the ids of the entries of sorted index key
// whose value starts with prefix, step entries a ZRANGEBYLEX.
func (s *Redis) rangeIndex(ctx context.Context, key, prefix string, step int, add func(id string)) error {
	lo := "[" + prefix
	for {
		entries, err := s.c.ZRangeByLex(ctx, key, &redis.ZRangeBy{Min: lo, Max: "[" + prefix + "\xff", Count: int64(step)}).Result()
		if err != nil {
			return err
		}
		for _, e := range entries {
			if i := strings.LastIndexByte(e, 0); i >= 0 {
				add(e[i+1:])
			}
		}
		if len(entries) < step {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		lo = "(" + entries[len(entries)-1]
	}
}
