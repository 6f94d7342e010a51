package scimapi

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

// docScanBatch is how many documents one step of a raw scan reads: one
// short script that judges them in Redis (see store.Redis.ScanDocs; about
// 6 µs of Redis CPU per typical user with its document in a key of its
// own on a 2-core machine, so 0.9 ms a step), or a pipeline of short
// commands, so Redis is never held for much more than a millisecond while
// the round trips stay few.
const docScanBatch = 150

// lookupGet serves an equality filter on a single value of a uniquely
// indexed attribute (userName eq "…") in one round trip, reading with
// what the filter and the response need. ok is false when the store or
// the filter does not allow it. With raw, the resources' Attrs are left
// undecoded (see lookupMatchDoc). With fresh, nothing is read from a read
// cache (store.ReadOptions.Fresh).
func (h *Handler) lookupGet(ctx context.Context, rt *schema.ResourceType, f *filter.Filter, ro, resp store.ReadOptions, bud *budget, raw, fresh bool) ([]*store.Resource, bool, error) {
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
	ro = store.ReadOptions{Members: ro.Members || resp.Members, Groups: ro.Groups || resp.Groups, RawOnly: raw, Fresh: fresh}
	return lg.LookupGet(ctx, rt.Name, attr, values[0], ro)
}

// lookupMatchDoc is the document f is matched against for r: render's
// document, from r's decoded attributes when it has them, else from only
// the top-level attributes of its stored JSON that f reads (and every
// extension object) and the derived members (id, meta, …) f reads, so an
// index lookup neither decodes the whole document nor renders what the
// filter does not read to check one value. f reads nothing else (filter.Filter's
// References lists every top-level attribute it reads; an extension
// attribute's reference names its extension's URN first), so it matches
// the partial document exactly as the whole one. A stored document the
// scan does not take (escaped keys, not an object) is decoded whole.
func lookupMatchDoc(rt *schema.ResourceType, r *store.Resource, f *filter.Filter) (map[string]any, error) {
	if r.Attrs != nil || r.Doc == "" {
		return render(rt, r, ""), nil
	}
	if attrs, ok := readAttrs(r.Doc, f); ok {
		renderInto(attrs, rt, r, "", f.References) // attrs is ours: no copy
		return attrs, nil
	}
	if err := r.DecodeAttrs(); err != nil {
		return nil, err
	}
	return render(rt, r, ""), nil
}

// readAttrs decodes the top-level members of the JSON object doc that f
// references, and the extension objects ("urn:" keys) of the extensions
// whose attributes it reads, skipping the others undecoded. Like json.Unmarshal into a map, a repeated key keeps
// its last value. ok is false when doc is not an object with plain keys.
func readAttrs(doc string, f *filter.Filter) (map[string]any, bool) {
	s := jsonScan{b: doc}
	if s.peek() != '{' {
		return nil, false
	}
	s.i++
	attrs := map[string]any{}
	if s.peek() == '}' {
		s.i++
		return attrs, s.end()
	}
	for {
		k, ok := s.key()
		if !ok {
			return nil, false
		}
		s.ws()
		start := s.i
		if !s.skip() {
			return nil, false
		}
		if f.References(k) || (strings.HasPrefix(k, "urn:") && f.ReadsExtension(k)) {
			var v any
			if err := json.Unmarshal([]byte(doc[start:s.i]), &v); err != nil {
				return nil, false
			}
			attrs[k] = v
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return attrs, s.end()
		default:
			return nil, false
		}
	}
}

// scanDocs runs a filter scan over raw documents when the filter has
// needles and reads no derived data (members, groups), and the store can:
// the store skips documents lacking a needle (store.DocScanner, in Redis
// itself for the Redis store); the others are read in full (one GetMany
// per step that has any) and matched. It charges the budget per step like
// Scan, for every document the step read. ok is false when it did not run.
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
	return true, ds.ScanDocs(ctx, rt.Name, docScanBatch, needles, func(scanned int, rs []*store.Resource) (bool, error) {
		if err := bud.charge(scanned); err != nil {
			return false, err
		}
		candidates = candidates[:0]
		for _, r := range rs {
			if r.Doc == "" || filter.MayMatch(r.Doc, needles) { // no Doc: judged by the store
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

// indexScanStep is how many index entries one command of an index scan
// reads (store.IndexScanner): Redis judges each in 1-2 µs, so a step
// holds it for well under a millisecond.
const indexScanStep = 400

// scanIndex serves a filter that requires a substring comparison (co, sw,
// ew) of an attribute whose index the store can scan: the store returns
// the ids whose index entries may satisfy it (store.IndexScanner), read
// scanBatch at a time and matched, each read charged to the budget (and
// the index scan itself held to its time). ok is
// false when it did not run (no such comparison, or no index answers).
func (h *Handler) scanIndex(ctx context.Context, rt *schema.ResourceType, f *filter.Filter, ro store.ReadOptions, bud *budget, check func([]*store.Resource, store.ReadOptions)) (bool, error) {
	is, isIS := h.store(ctx).(store.IndexScanner)
	if !isIS || f == nil {
		return false, nil
	}
	// the index scan runs within the request's time budget
	sctx, cancel := context.WithDeadline(ctx, bud.deadline)
	defer cancel()
	var ids []string
	ok := false
	// the first comparison whose index answers
	for _, m := range f.TextMatches(h.store(ctx).Indexed(rt.Name)...) {
		var err error
		ids, ok, err = is.ScanIndex(sctx, rt.Name, m, indexScanStep)
		if err != nil && ctx.Err() == nil && sctx.Err() != nil {
			return true, bud.outOfTime()
		}
		if err != nil {
			return true, err
		}
		if ok {
			break
		}
	}
	if !ok {
		return false, nil
	}
	for len(ids) > 0 {
		n := min(len(ids), scanBatch)
		if err := bud.charge(n); err != nil {
			return true, err
		}
		rs, err := h.store(ctx).GetMany(ctx, rt.Name, ids[:n], ro)
		if err != nil {
			return true, err
		}
		check(rs, ro)
		ids = ids[n:]
		if err := ctx.Err(); err != nil {
			return true, err
		}
	}
	return true, nil
}

// listBodyCap is the room listBody usually needs for pg.
func listBodyCap(pg page) int { return 256 + len(pg.hits)*1024 }

// listBody appends to buf (nil: a new one sized for pg) a ListResponse
// (RFC 7644 §3.4.2) with its members in encoding/json's key order, each
// resource rendered by renderJSON.
func (h *Handler) listBody(buf []byte, pg page, base string, lp listParams) ([]byte, error) {
	if buf == nil {
		buf = make([]byte, 0, listBodyCap(pg))
	}
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
