package scimapi

import (
	"context"
	"strconv"

	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

// docScanBatch is how many documents one step of a raw scan reads: one
// pipeline of short commands (see store.Redis.ScanDocs), so Redis is never
// held for long while the round trips stay few.
const docScanBatch = 500

// lookupGet serves an equality filter on a single value of a uniquely
// indexed attribute (userName eq "…") in one round trip, reading with
// what the filter and the response need. ok is false when the store or
// the filter does not allow it.
func (h *Handler) lookupGet(ctx context.Context, rt *schema.ResourceType, f *filter.Filter, ro, resp store.ReadOptions, bud *budget) ([]*store.Resource, bool, error) {
	lg, isLG := h.store(ctx).(store.LookupGetter)
	if !isLG || f == nil {
		return nil, false, nil
	}
	attr, values, ok := f.IndexCandidateSet(h.store(ctx).Indexed(rt.Name)...)
	if !ok || len(values) != 1 || attr == "id" {
		return nil, false, nil
	}
	if err := bud.reserve(1); err != nil { // a unique index yields at most one
		return nil, true, err
	}
	ro = store.ReadOptions{Members: ro.Members || resp.Members, Groups: ro.Groups || resp.Groups}
	return lg.LookupGet(ctx, rt.Name, attr, values[0], ro)
}

// scanDocs runs a filter scan over raw documents when the filter has
// needles and reads no derived data (members, groups), and the store can:
// documents lacking a needle are skipped undecoded; the others are read
// in full (one GetMany per step that has any) and matched. It charges the
// budget per step like Scan. ok is false when it did not run.
func (h *Handler) scanDocs(ctx context.Context, rt *schema.ResourceType, f *filter.Filter, ro store.ReadOptions, bud *budget, check func([]*store.Resource, store.ReadOptions)) (bool, error) {
	ds, isDS := h.store(ctx).(store.DocScanner)
	if !isDS || f == nil || ro.Members || ro.Groups {
		return false, nil
	}
	needles := f.Needles()
	if len(needles) == 0 {
		return false, nil
	}
	var candidates []string
	return true, ds.ScanDocs(ctx, rt.Name, docScanBatch, func(rs []*store.Resource) (bool, error) {
		if err := bud.charge(len(rs)); err != nil {
			return false, err
		}
		candidates = candidates[:0]
		for _, r := range rs {
			if r.Doc == "" || filter.MayMatch(r.Doc, needles) { // no Doc: not judged
				candidates = append(candidates, r.ID)
			}
		}
		if len(candidates) > 0 {
			full, err := h.store(ctx).GetMany(ctx, rt.Name, candidates, store.ReadOptions{})
			if err != nil {
				return false, err
			}
			check(full, store.ReadOptions{})
		}
		return true, ctx.Err()
	})
}

// listBody encodes a ListResponse (RFC 7644 §3.4.2) with its members in
// encoding/json's key order, each resource rendered by renderJSON.
func (h *Handler) listBody(pg page, base string, lp listParams) ([]byte, error) {
	buf := make([]byte, 0, 256+len(pg.hits)*1024)
	buf = append(buf, `{"Resources":[`...)
	for i, ht := range pg.hits {
		if i > 0 {
			buf = append(buf, ',')
		}
		var err error
		if buf, err = h.renderJSON(buf, ht.rt, ht.res, base, lp.proj); err != nil {
			return nil, err
		}
	}
	buf = append(buf, `],"itemsPerPage":`...)
	buf = strconv.AppendInt(buf, int64(len(pg.hits)), 10)
	if lp.cursor != nil && pg.next != "" {
		buf = append(buf, `,"nextCursor":`...)
		buf = appendJSONString(buf, pg.next)
	}
	buf = append(buf, `,"schemas":["`+ListResponseURN+`"]`...)
	if lp.cursor == nil {
		buf = append(buf, `,"startIndex":`...)
		buf = strconv.AppendInt(buf, int64(lp.startIndex), 10)
	}
	buf = append(buf, `,"totalResults":`...)
	buf = strconv.AppendInt(buf, int64(pg.total), 10)
	return append(buf, '}'), nil
}
