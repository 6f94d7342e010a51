package store

import "context"

// LookupGetter is implemented by stores that resolve a unique index entry
// and read the resource it names in one call (see Redis.LookupGet). Unless
// ro.Fresh, the resource may be a cached copy that no longer holds value
// (changed elsewhere, not yet invalidated): a caller checks it and asks
// again with ro.Fresh when it does not.
type LookupGetter interface {
	LookupGet(ctx context.Context, typ, attr, value string, ro ReadOptions) ([]*Resource, bool, error)
}

// DocScanner is implemented by stores that scan raw documents (see
// Redis.ScanDocs).
type DocScanner interface {
	ScanDocs(ctx context.Context, typ string, batch int, needles []Needle, fn func(scanned int, rs []*Resource) (bool, error)) error
}

var (
	_ LookupGetter = (*Redis)(nil)
	_ DocScanner   = (*Redis)(nil)
	_ LookupGetter = (*quotaStore)(nil)
	_ DocScanner   = (*quotaStore)(nil)
)

// LookupGet passes to the wrapped store (ok false when it cannot).
func (q *quotaStore) LookupGet(ctx context.Context, typ, attr, value string, ro ReadOptions) ([]*Resource, bool, error) {
	if lg, ok := q.Store.(LookupGetter); ok {
		return lg.LookupGet(ctx, typ, attr, value, ro)
	}
	return nil, false, nil
}

// ScanDocs passes to the wrapped store, or scans it with Scan (every
// resource is then a candidate, and carries Attrs and Doc as that store
// fills them).
func (q *quotaStore) ScanDocs(ctx context.Context, typ string, batch int, needles []Needle, fn func(scanned int, rs []*Resource) (bool, error)) error {
	if ds, ok := q.Store.(DocScanner); ok {
		return ds.ScanDocs(ctx, typ, batch, needles, fn)
	}
	return q.Scan(ctx, typ, "", batch, ReadOptions{}, func(rs []*Resource) (bool, error) { return fn(len(rs), rs) })
}
