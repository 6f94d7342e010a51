package scimapi

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/scimapi/store"
)

// scanBatch is how many resources a filter scan reads per step: one
// round trip of plain reads (see store.ReadBatch).
const scanBatch = store.ReadBatch

// listParams are the query parameters of a list or search (RFC 7644 §3.4.2,
// RFC 9865 for cursor).
type listParams struct {
	filter     string
	sortBy     string
	descending bool
	startIndex int
	count      int
	cursor     *string // nil: index pagination
	proj       projection
}

func (h *Handler) listParamsFromQuery(c *gin.Context) (listParams, error) {
	lp := listParams{filter: c.Query("filter"), sortBy: c.Query("sortBy"), proj: projectionOf(c)}
	if err := lp.setSortOrder(c.Query("sortOrder")); err != nil {
		return lp, err
	}
	start, hasStart, err := intParam(c, "startIndex")
	if err != nil {
		return lp, err
	}
	count, hasCount, err := intParam(c, "count")
	if err != nil {
		return lp, err
	}
	var cursor *string
	if v, ok := c.GetQuery("cursor"); ok {
		cursor = &v
	}
	return lp, h.finishParams(&lp, start, hasStart, count, hasCount, cursor)
}

// searchRequest is the body of POST .search (RFC 7644 §3.4.3).
type searchRequest struct {
	Schemas            []string `json:"schemas"`
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
	Filter             string   `json:"filter"`
	SortBy             string   `json:"sortBy"`
	SortOrder          string   `json:"sortOrder"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
	Cursor             *string  `json:"cursor"`
}

func (h *Handler) listParamsFromBody(c *gin.Context) (listParams, error) {
	var sr searchRequest
	if err := h.readBody(c, &sr); err != nil {
		return listParams{}, err
	}
	if h.opts.Strict && !slices.ContainsFunc(sr.Schemas, func(s string) bool { return strings.EqualFold(s, SearchRequestURN) }) {
		return listParams{}, scimerr.BadRequest(scimerr.InvalidSyntax, "schemas must be [%q]", SearchRequestURN)
	}
	if err := h.opts.Limits.checkParams(sr.Attributes, sr.ExcludedAttributes, sr.SortBy); err != nil {
		return listParams{}, err
	}
	lp := listParams{filter: sr.Filter, sortBy: sr.SortBy, proj: projection{attributes: sr.Attributes, excluded: sr.ExcludedAttributes}}
	if err := lp.setSortOrder(sr.SortOrder); err != nil {
		return lp, err
	}
	start, count := 0, 0
	if sr.StartIndex != nil {
		start = *sr.StartIndex
	}
	if sr.Count != nil {
		count = *sr.Count
	}
	return lp, h.finishParams(&lp, start, sr.StartIndex != nil, count, sr.Count != nil, sr.Cursor)
}

func (lp *listParams) setSortOrder(s string) error {
	switch strings.ToLower(s) {
	case "", "ascending":
	case "descending":
		lp.descending = true
	default:
		return scimerr.BadRequest(scimerr.InvalidValue, "sortOrder must be ascending or descending")
	}
	return nil
}

// finishParams applies the paging rules: startIndex below 1 is read as 1
// (RFC 7644 §3.4.2.4), negative count as 0, count is capped at MaxResults;
// cursor (RFC 9865) excludes startIndex and sortBy.
func (h *Handler) finishParams(lp *listParams, start int, hasStart bool, count int, hasCount bool, cursor *string) error {
	lp.startIndex = max(start, 1)
	lp.count = h.opts.MaxResults
	if hasCount {
		lp.count = min(max(count, 0), h.opts.MaxResults)
	}
	if cursor != nil {
		if hasStart {
			return scimerr.BadRequest(scimerr.InvalidValue, "cursor and startIndex cannot be combined")
		}
		if lp.sortBy != "" {
			return scimerr.BadRequest(scimerr.InvalidValue, "cursor pagination returns resources in id order; sortBy cannot be combined with it")
		}
		lp.cursor = cursor
	}
	return nil
}

func decodeCursor(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return "", scimerr.BadRequest(scimerr.InvalidCursor, "cursor is not valid")
	}
	return string(b), nil
}

func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func (h *Handler) list(c *gin.Context, req *request, rt *schema.ResourceType) {
	lp, err := h.listParamsFromQuery(c)
	if err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	h.respondList(c, req, []*schema.ResourceType{rt}, lp)
}

func (h *Handler) search(c *gin.Context, req *request, rt *schema.ResourceType) {
	lp, err := h.listParamsFromBody(c)
	if err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	h.respondList(c, req, []*schema.ResourceType{rt}, lp)
}

// rootSearch is POST /.search over every resource type (RFC 7644 §3.4.3).
func (h *Handler) rootSearch(c *gin.Context, req *request) {
	lp, err := h.listParamsFromBody(c)
	if err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	if lp.cursor != nil {
		writeError(c, h.opts.Log, scimerr.BadRequest(scimerr.InvalidValue, "cursor pagination is not supported on the root search"))
		return
	}
	h.respondList(c, req, []*schema.ResourceType{h.reg.Users(), h.reg.Groups()}, lp)
}

// hit is one matched resource with its resource type.
type hit struct {
	rt     *schema.ResourceType
	res    *store.Resource
	loaded store.ReadOptions // derived data res was read with
}

type page struct {
	total int
	hits  []hit
	next  string
}

func (h *Handler) respondList(c *gin.Context, req *request, rts []*schema.ResourceType, lp listParams) {
	pg, err := h.query(c.Request.Context(), rts, lp)
	if err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	bp, buf := h.responseBuf(listBodyCap(pg))
	body, err := h.listBody(buf, pg, req.base, lp)
	if err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	writeData(c, http.StatusOK, body)
	h.recycleResponse(bp, body)
}

// listAcc collects a list's matches (query): the total, and the hits of
// the page asked for, or the candidates of its sort window (top).
type listAcc struct {
	rt        *schema.ResourceType // of the resources visited now
	pg        page
	kept      []hit
	top       *topK
	sorter    *filter.Sorter
	after     string // cursor paging: the last id of the page before
	cursor    bool
	lo, count int
}

// visit takes one matching resource (see Handler.matches).
func (a *listAcc) visit(r *store.Resource, doc map[string]any, ro store.ReadOptions) {
	a.pg.total++
	switch {
	case a.top != nil:
		a.top.offer(sortEntry{rt: a.rt, id: r.ID, key: a.sorter.Key(doc)})
	case a.cursor:
		if r.ID > a.after && len(a.kept) <= a.count {
			a.kept = append(a.kept, hit{rt: a.rt, res: r, loaded: ro})
		}
	default:
		if n := a.pg.total - 1; n >= a.lo && n < a.lo+a.count {
			a.kept = append(a.kept, hit{rt: a.rt, res: r, loaded: ro})
		}
	}
}

// query runs a list over one or more resource types.
func (h *Handler) query(ctx context.Context, rts []*schema.ResourceType, lp listParams) (page, error) {
	after := ""
	if lp.cursor != nil {
		var err error
		if after, err = decodeCursor(*lp.cursor); err != nil {
			return page{}, err
		}
	}
	filters := make([]*filter.Filter, len(rts))
	if lp.filter != "" {
		lenient := len(rts) > 1 // root search: attributes of other types match nothing
		for i, rt := range rts {
			f, err := h.filters.compile(rt, lp.filter, lenient)
			if err != nil {
				return page{}, err
			}
			filters[i] = f
		}
	}
	// Fast path: one type, no filter, no sort — page straight off the id index.
	if len(rts) == 1 && lp.filter == "" && lp.sortBy == "" {
		return h.unfilteredPage(ctx, rts[0], lp, after)
	}
	var sorter *filter.Sorter
	if lp.sortBy != "" {
		for _, rt := range rts {
			s, err := filter.NewSorter(rt, lp.sortBy, !lp.descending)
			if err == nil {
				sorter = s
				break
			} else if len(rts) == 1 {
				return page{}, err
			}
		}
	}
	lo := lp.startIndex - 1
	var top *topK
	if sorter != nil {
		k := lo + lp.count
		if k > h.opts.SortWindow {
			return page{}, scimerr.BadRequest(scimerr.TooMany, "with sortBy, results are served up to position %d (scim.budgets.sort_window); startIndex+count-1 is %d", h.opts.SortWindow, k)
		}
		top = newTopK(sorter, k)
	}
	bud := h.newBudget()
	// what the visits collect, in one value the visit function shares
	// (captured variables would each escape to the heap)
	acc := &listAcc{top: top, sorter: sorter, after: after, cursor: lp.cursor != nil, lo: lo, count: lp.count}
	for i, rt := range rts {
		acc.rt = rt
		if err := h.matches(ctx, rt, filters[i], lp.proj.readOptions(rt), bud, top != nil, acc.visit); err != nil {
			return page{}, err
		}
	}
	pg, kept := acc.pg, acc.kept
	if top != nil {
		entries := top.sorted()
		hits, err := h.fetchSorted(ctx, entries[min(lo, len(entries)):], lp.proj)
		pg.hits = hits
		return pg, err
	}
	if lp.cursor != nil && len(kept) > lp.count {
		kept = kept[:lp.count]
		if len(kept) > 0 {
			pg.next = encodeCursor(kept[len(kept)-1].res.ID)
		}
	}
	hits, err := h.reload(ctx, kept, lp.proj)
	pg.hits = hits
	return pg, err
}

// matches calls visit with every resource of rt that matches f (all of them
// when f is nil), in id order, and the derived data it was read with.
// Equality filters on indexed attributes read only the index candidates,
// together with what the response needs (resp); other filters scan in
// batches of scanBatch, reading derived data only when the filter reads it.
// Index candidates must fit the row budget bud; a scan is checked against
// it before it starts, then charged rows and time step by step. Unless
// fullDoc, the document visit gets from an index lookup may hold only what
// the filter reads (see lookupMatchDoc).
func (h *Handler) matches(ctx context.Context, rt *schema.ResourceType, f *filter.Filter, resp store.ReadOptions, bud *budget, fullDoc bool, visit func(*store.Resource, map[string]any, store.ReadOptions)) error {
	var ro store.ReadOptions
	if f != nil {
		ro = store.ReadOptions{Members: f.References("members"), Groups: f.References("groups")}
	}
	check := func(rs []*store.Resource, ro store.ReadOptions) {
		for _, r := range rs {
			doc := render(rt, r, "")
			if f == nil || f.Match(doc) {
				visit(r, doc, ro)
			}
		}
	}
	if rs, ok, err := h.lookupGet(ctx, rt, f, ro, resp, bud, !fullDoc, false); ok || err != nil {
		if err != nil {
			return err
		}
		loaded := store.ReadOptions{Members: ro.Members || resp.Members, Groups: ro.Groups || resp.Groups}
		visitMatching := func(rs []*store.Resource) (bool, error) {
			matched := false
			for _, r := range rs {
				doc, err := lookupMatchDoc(rt, r, f)
				if err != nil {
					return false, err
				}
				if f.Match(doc) {
					matched = true
					visit(r, doc, loaded)
				}
			}
			return matched, nil
		}
		matched, err := visitMatching(rs)
		if err != nil || matched || len(rs) == 0 {
			return err
		}
		// The index named a resource that does not match: a cached copy
		// older than the index entry (a rename through another replica not
		// yet invalidated here; see store.Redis.LookupGet). Read both again
		// in one step.
		if rs, _, err = h.lookupGet(ctx, rt, f, ro, resp, bud, !fullDoc, true); err != nil {
			return err
		}
		_, err = visitMatching(rs)
		return err
	}
	if f != nil {
		attr, values, ok := f.IndexCandidateSet(h.store(ctx).Indexed(rt.Name)...)
		var ids []string
		for _, v := range values {
			if !ok {
				break
			}
			found, err := h.store(ctx).Lookup(ctx, rt.Name, attr, v)
			if errors.Is(err, store.ErrIndexBuilding) {
				ok = false // resources written before the index: scan
				break
			}
			if err != nil {
				return err
			}
			ids = append(ids, found...)
		}
		if ok {
			slices.Sort(ids)
			ids = slices.Compact(ids)
			if err := bud.reserve(len(ids)); err != nil {
				return err
			}
			ro = store.ReadOptions{Members: ro.Members || resp.Members, Groups: ro.Groups || resp.Groups}
			rs, err := h.store(ctx).GetMany(ctx, rt.Name, ids, ro)
			if err != nil {
				return err
			}
			check(rs, ro)
			return nil
		}
	}
	// A scan examines the whole collection: refuse before reading any of
	// it when that is over the budget.
	n, err := h.store(ctx).Count(ctx, rt.Name)
	if err != nil {
		return err
	}
	if err := bud.reserve(int(n)); err != nil {
		return err
	}
	if ok, err := h.scanIndex(ctx, rt, f, ro, bud, check); ok || err != nil {
		return err
	}
	if ok, err := h.scanDocs(ctx, rt, f, ro, bud, check); ok {
		return err
	}
	return h.store(ctx).Scan(ctx, rt.Name, "", scanBatch, ro, func(rs []*store.Resource) (bool, error) {
		if err := bud.charge(len(rs)); err != nil {
			return false, err
		}
		check(rs, ro)
		return true, ctx.Err()
	})
}

// fetchSorted reads the resources of a sorted page (at most count of
// entries) with what the response needs, keeping the sort order. A
// resource deleted in between is dropped.
func (h *Handler) fetchSorted(ctx context.Context, entries []sortEntry, p projection) ([]hit, error) {
	byType := map[*schema.ResourceType][]string{}
	for _, e := range entries {
		byType[e.rt] = append(byType[e.rt], e.id)
	}
	found := map[string]*store.Resource{}
	for rt, ids := range byType {
		rs, err := h.store(ctx).GetMany(ctx, rt.Name, ids, p.readOptions(rt))
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			found[r.ID] = r
		}
	}
	out := make([]hit, 0, len(entries))
	for _, e := range entries {
		if r, ok := found[e.id]; ok {
			out = append(out, hit{rt: e.rt, res: r})
		}
	}
	return out, nil
}

// unfilteredPage pages through all resources of rt straight off the id
// index: one ZRANGEBYLEX and one read, whatever the collection size.
func (h *Handler) unfilteredPage(ctx context.Context, rt *schema.ResourceType, lp listParams, after string) (page, error) {
	total, err := h.store(ctx).Count(ctx, rt.Name)
	if err != nil {
		return page{}, err
	}
	pg := page{total: int(total)}
	if lp.count == 0 {
		return pg, nil
	}
	var ids []string
	if lp.cursor != nil {
		ids, err = h.store(ctx).IDs(ctx, rt.Name, after, 0, lp.count+1)
	} else {
		ids, err = h.store(ctx).IDs(ctx, rt.Name, "", lp.startIndex-1, lp.count)
	}
	if err != nil {
		return page{}, err
	}
	if lp.cursor != nil && len(ids) > lp.count {
		ids = ids[:lp.count]
		pg.next = encodeCursor(ids[len(ids)-1])
	}
	ro := lp.proj.readOptions(rt)
	ro.RawOnly = true // only rendered: see renderJSON
	rs, err := h.store(ctx).GetMany(ctx, rt.Name, ids, ro)
	for _, r := range rs {
		pg.hits = append(pg.hits, hit{rt: rt, res: r})
	}
	return pg, err
}

// reload reads the page's resources again with the derived attributes the
// response needs (members, groups), keeping the page order. A resource
// deleted in between is dropped.
func (h *Handler) reload(ctx context.Context, kept []hit, p projection) ([]hit, error) {
	byType := map[*schema.ResourceType][]string{}
	for _, k := range kept {
		need := p.readOptions(k.rt)
		if (need.Members && !k.loaded.Members) || (need.Groups && !k.loaded.Groups) {
			byType[k.rt] = append(byType[k.rt], k.res.ID)
		}
	}
	if len(byType) == 0 {
		return kept, nil
	}
	fresh := map[string]*store.Resource{}
	for rt, ids := range byType {
		rs, err := h.store(ctx).GetMany(ctx, rt.Name, ids, p.readOptions(rt))
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			fresh[r.ID] = r
		}
	}
	out := make([]hit, 0, len(kept))
	for _, k := range kept {
		need := p.readOptions(k.rt)
		if !(need.Members && !k.loaded.Members) && !(need.Groups && !k.loaded.Groups) {
			out = append(out, k)
		} else if r, ok := fresh[k.res.ID]; ok {
			out = append(out, hit{rt: k.rt, res: r})
		}
	}
	return out, nil
}
