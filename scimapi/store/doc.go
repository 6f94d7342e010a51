package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Doc returns the stored attributes of resource id of typ as JSON, as the
// write that last changed them encoded it (expanded: expandDoc), and the
// resource's version; or ErrNotFound. Change events carry a version, not the document: the
// webhook worker reads it here at delivery time.
func (s *Redis) Doc(ctx context.Context, typ, id string) (json.RawMessage, int64, error) {
	var h *redis.SliceCmd
	var d *redis.StringCmd
	_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		h = p.HMGet(ctx, s.resKey(id), "t", "doc", "v", "dv")
		d = p.Get(ctx, s.docKey(id))
		return nil
	})
	if err := errors.Join(h.Err(), ignoreNil(d.Err())); err != nil {
		return nil, 0, fmt.Errorf("store: read %s %s: %w", typ, id, err)
	}
	f := h.Val()
	t, _ := f[0].(string)
	hd, _ := f[1].(string)
	doc, dv, inKey := storedDoc(hd, d.Val())
	if t == typ && inKey {
		// the document key's, at the hash's attribute version; else the
		// two were read around a write: read again in one script
		hdv, _ := f[3].(string)
		if hdv == "" {
			hdv = "1"
		}
		if dv != hdv {
			r, err := s.getScript(ctx, typ, id, ReadOptions{RawOnly: true})
			if err != nil {
				return nil, 0, err
			}
			if r == nil {
				return nil, 0, ErrNotFound
			}
			return json.RawMessage(r.Doc), r.Version, nil
		}
	}
	if t != typ || doc == "" {
		return nil, 0, ErrNotFound
	}
	doc, err := expandDoc(doc)
	if err != nil {
		return nil, 0, fmt.Errorf("store: read %s %s: %w", typ, id, err)
	}
	v, _ := f[2].(string)
	n, _ := strconv.ParseInt(v, 10, 64)
	return json.RawMessage(doc), n, nil
}
