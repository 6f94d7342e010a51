package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// Doc returns the stored attributes of resource id of typ as JSON, as the
// write that last changed them encoded it (expanded: expandDoc), and the
// resource's version; or ErrNotFound. Change events carry a version, not the document: the
// webhook worker reads it here at delivery time.
func (s *Redis) Doc(ctx context.Context, typ, id string) (json.RawMessage, int64, error) {
	f, err := s.c.HMGet(ctx, s.resKey(id), "t", "doc", "v").Result()
	if err != nil {
		return nil, 0, fmt.Errorf("store: read %s %s: %w", typ, id, err)
	}
	t, _ := f[0].(string)
	doc, _ := f[1].(string)
	if t != typ || doc == "" {
		return nil, 0, ErrNotFound
	}
	if doc, err = expandDoc(doc); err != nil {
		return nil, 0, fmt.Errorf("store: read %s %s: %w", typ, id, err)
	}
	v, _ := f[2].(string)
	n, _ := strconv.ParseInt(v, 10, 64)
	return json.RawMessage(doc), n, nil
}
