package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
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
// Resource; with raw, Attrs is left for DecodeAttrs.
func decodeFields(id string, f []any, raw bool) (*Resource, error) {
	str := func(i int) string { s, _ := f[i].(string); return s }
	r := &Resource{Type: str(0), ID: id, Doc: str(1)}
	if !raw {
		if err := r.DecodeAttrs(); err != nil {
			return nil, err
		}
	}
	r.Role = str(7)
	r.AttrVersion, _ = strconv.ParseInt(str(8), 10, 64)
	r.Version, _ = strconv.ParseInt(str(2), 10, 64)
	r.Created, _ = time.Parse(time.RFC3339Nano, str(3))
	r.Modified, _ = time.Parse(time.RFC3339Nano, str(4))
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

// LookupGet is Lookup followed by GetMany in one round trip, for an
// attribute with a unique index (User userName): it returns the resource
// whose attr equals value, as the index normalises it (none or one). ok is
// false, and nothing is read, when attr has no unique index; use Lookup
// and GetMany then.
func (s *Redis) LookupGet(ctx context.Context, typ, attr, value string, ro ReadOptions) (rs []*Resource, ok bool, err error) {
	ix, ok := uniqueIndex(typ, attr)
	if !ok {
		return nil, false, nil
	}
	value = ix.norm(value)
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
	r, err := decodeFields(id, fields, ro.RawOnly)
	if err != nil {
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

// ScanDocs visits every resource of typ in id order, in steps of at most
// batch, until fn returns false or an error. The resources carry only
// Type, ID and Doc (the stored attributes JSON; Attrs nil): it serves
// callers that reject most documents from their raw JSON and read the rest
// with GetMany. It runs no script: each step is one pipeline of one HGET
// per resource plus the ZRANGEBYLEX of the next step, so Redis is never
// held for more than one short command and a step is one round trip.
func (s *Redis) ScanDocs(ctx context.Context, typ string, batch int, fn func([]*Resource) (bool, error)) error {
	ids, err := s.c.ZRangeByLex(ctx, s.allKey(typ), &redis.ZRangeBy{Min: "-", Max: "+", Count: int64(batch)}).Result()
	if err != nil {
		return fmt.Errorf("store: scan %s: %w", typ, err)
	}
	for len(ids) > 0 {
		docs := make([]*redis.StringCmd, len(ids))
		var next *redis.StringSliceCmd
		_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				docs[i] = p.HGet(ctx, s.resKey(id), "doc")
			}
			if len(ids) == batch {
				next = p.ZRangeByLex(ctx, s.allKey(typ), &redis.ZRangeBy{Min: "(" + ids[len(ids)-1], Max: "+", Count: int64(batch)})
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("store: scan %s: %w", typ, err)
		}
		rs := make([]*Resource, 0, len(ids))
		for i, cmd := range docs {
			doc, err := cmd.Result()
			switch {
			case err == nil:
				rs = append(rs, &Resource{Type: typ, ID: ids[i], Doc: doc})
			case !errors.Is(err, redis.Nil): // redis.Nil: deleted in between
				return fmt.Errorf("store: scan %s: %w", typ, err)
			}
		}
		if more, err := fn(rs); err != nil || !more || next == nil {
			return err
		}
		if ids, err = next.Result(); err != nil {
			return fmt.Errorf("store: scan %s: %w", typ, err)
		}
	}
	return nil
}
