package scimapi

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/scimapi/store"
)

// maxWriteAttempts bounds optimistic-concurrency retries of read-modify-write
// requests that carry no If-Match.
const maxWriteAttempts = 32

// backoff waits a little, randomly, before retry attempt+1 of a write that
// lost a race, so that concurrent writers of one resource spread out.
func backoff(ctx context.Context, attempt int) {
	d := time.Duration(rand.Int64N(int64(attempt+1) * int64(time.Millisecond)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// projection is the attributes / excludedAttributes pair of a request.
type projection struct {
	attributes, excluded []string
}

func projectionOf(c *gin.Context) projection {
	if c.Request.URL.RawQuery == "" {
		return projection{} // without parsing the (empty) query into a map
	}
	return projection{attributes: splitAttrs(c.Query("attributes")), excluded: splitAttrs(c.Query("excludedAttributes"))}
}

// wants reports whether the projection returns the core attribute name
// (used to skip loading members or groups nobody asked for).
func (p projection) wants(rt *schema.ResourceType, name string) bool {
	named := func(list []string) bool {
		for _, a := range list {
			a = strings.ToLower(a)
			a = strings.TrimPrefix(a, strings.ToLower(rt.Schema.ID)+":")
			if a == strings.ToLower(name) || strings.HasPrefix(a, strings.ToLower(name)+".") {
				return true
			}
		}
		return false
	}
	if len(p.attributes) > 0 {
		return named(p.attributes)
	}
	return !named(p.excluded)
}

func (p projection) readOptions(rt *schema.ResourceType) store.ReadOptions {
	if rt.Name == store.TypeGroup {
		return store.ReadOptions{Members: p.wants(rt, "members")}
	}
	return store.ReadOptions{Groups: p.wants(rt, "groups")}
}

// render builds the full SCIM representation of r (RFC 7643 §3.1 meta).
func render(rt *schema.ResourceType, r *store.Resource, base string) map[string]any {
	doc := maps.Clone(r.Attrs)
	if doc == nil {
		doc = map[string]any{}
	}
	renderInto(doc, rt, r, base, nil)
	return doc
}

// renderInto adds to doc, r's attributes owned by the caller, what render
// adds to them. With only non-nil it adds just the derived members only
// reports true for (id, meta, members, groups; the role extension always):
// a document for a filter that reads nothing else.
func renderInto(doc map[string]any, rt *schema.ResourceType, r *store.Resource, base string, only func(string) bool) {
	want := func(name string) bool { return only == nil || only(name) }
	if want("id") {
		doc["id"] = r.ID
	}
	if want("meta") {
		doc["meta"] = map[string]any{
			"resourceType": rt.Name,
			"created":      r.Created.UTC().Format(time.RFC3339Nano),
			"lastModified": r.Modified.UTC().Format(time.RFC3339Nano),
			"location":     base + rt.Endpoint + "/" + r.ID,
			"version":      etag(r.Version),
		}
	}
	if len(r.Members) > 0 && want("members") {
		ms := make([]any, len(r.Members))
		for i, m := range r.Members {
			e := map[string]any{"value": m.Value, "type": m.Type, "$ref": base + "/" + m.Type + "s/" + m.Value}
			if m.Display != "" {
				e["display"] = m.Display
			}
			ms[i] = e
		}
		doc["members"] = ms
	}
	renderRole(doc, r)
	if len(r.Groups) > 0 && want("groups") {
		gs := make([]any, len(r.Groups))
		for i, g := range r.Groups {
			gs[i] = map[string]any{"value": g.Value, "display": g.Display, "type": "direct", "$ref": base + "/Groups/" + g.Value}
		}
		doc["groups"] = gs
	}
}

func (h *Handler) respondResource(c *gin.Context, req *request, rt *schema.ResourceType, r *store.Resource, status int, p projection) {
	c.Header("ETag", etag(r.Version))
	if status == http.StatusCreated {
		c.Header("Location", req.base+rt.Endpoint+"/"+r.ID)
	}
	bp, buf := h.responseBuf(renderCap(r, req.base))
	b, err := h.renderJSON(buf, rt, r, req.base, p)
	if err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	writeData(c, status, b)
	h.recycleResponse(bp, b)
}

// responseBuf returns an empty buffer from responseBufs with room for n
// bytes, or nil for the renderer to size one, and the holder to give back
// with recycleResponse.
func (h *Handler) responseBuf(n int) (*[]byte, []byte) {
	bp, _ := h.responseBufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	if cap(*bp) < n {
		return bp, nil
	}
	return bp, (*bp)[:0]
}

// recycleResponse gives b, a response body already written, back to
// responseBufs in holder bp: the writer keeps no reference to it
// (io.Writer's contract), so the next response may use it.
func (h *Handler) recycleResponse(bp *[]byte, b []byte) {
	if cap(b) <= maxPooledResponse {
		*bp = b[:0]
		h.responseBufs.Put(bp)
	}
}

// maxPooledResponse is the largest buffer kept in responseBufs: a group's
// thousands of members, or a long page, are rendered into one of their own.
const maxPooledResponse = 64 << 10

func (h *Handler) schemaOpts() schema.Options {
	return schema.Options{Strict: h.opts.Strict, OnCompat: h.opts.OnCompat}
}

// splitInput turns a normalised document into the stored attributes and,
// for groups, the members. Passwords are never stored: scimgate provisions
// users who sign in through their identity provider, and
// /ServiceProviderConfig says changePassword is not supported.
func splitInput(rt *schema.ResourceType, doc map[string]any) (map[string]any, []store.Member, error) {
	attrs := maps.Clone(doc)
	delete(attrs, "id")
	delete(attrs, "meta")
	delete(attrs, "groups")
	delete(attrs, "password")
	if rt.Name != store.TypeGroup {
		return attrs, nil, nil
	}
	raw, _ := attrs["members"].([]any)
	delete(attrs, "members")
	members, err := membersOf(raw)
	return attrs, members, err
}

// membersOf converts normalised member values to store members.
func membersOf(raw []any) ([]store.Member, error) {
	out := make([]store.Member, 0, len(raw))
	seen := map[string]bool{}
	for _, v := range raw {
		m, _ := v.(map[string]any)
		id, _ := m["value"].(string)
		if id == "" {
			return nil, scimerr.BadRequest(scimerr.InvalidValue, "every member needs a non-empty \"value\"")
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		display, _ := m["display"].(string)
		out = append(out, store.Member{Value: id, Display: display})
	}
	return out, nil
}

// readResource reads a POST or PUT body and splits it into the attributes to
// store and, for groups, the members.
func (h *Handler) readResource(c *gin.Context, rt *schema.ResourceType) (map[string]any, []store.Member, error) {
	var in map[string]any
	if err := h.readBody(c, &in); err != nil {
		return nil, nil, err
	}
	doc, err := schema.Normalize(rt, in, h.schemaOpts())
	if err != nil {
		return nil, nil, err
	}
	return splitInput(rt, doc)
}

// current reads the resource a write targets and checks If-Match against
// it, returning the version the write must find (0 without If-Match).
func (h *Handler) current(c *gin.Context, rt *schema.ResourceType, ro store.ReadOptions) (*store.Resource, int64, error) {
	cur, err := h.store(c.Request.Context()).Get(c.Request.Context(), rt.Name, c.Param("id"), ro)
	if err != nil {
		return nil, 0, err
	}
	version, err := ifMatch(c, cur.Version)
	return cur, version, err
}

func (h *Handler) create(c *gin.Context, req *request, rt *schema.ResourceType) {
	attrs, members, err := h.readResource(c, rt)
	if err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	created := changedAttrs(nil, attrs)
	if len(members) > 0 {
		created = append(created, "members")
	}
	j := h.journal(c, rt, kindCreate, nil, attrs, created)
	r, err := h.store(c.Request.Context()).Create(c.Request.Context(), rt.Name, attrs, members, j)
	if err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	h.rolesAfterWrite(c.Request.Context(), r, nil, attrs, &store.MemberChange{Add: members}, nil, j.AuditID)
	if r.Type == store.TypeUser && h.rolesEnabled() {
		if fresh, err := h.store(c.Request.Context()).Get(c.Request.Context(), rt.Name, r.ID, projectionOf(c).readOptions(rt)); err == nil {
			r = fresh
		}
	}
	h.respondResource(c, req, rt, r, http.StatusCreated, projectionOf(c))
}

func (h *Handler) get(c *gin.Context, req *request, rt *schema.ResourceType) {
	p := projectionOf(c)
	ro := p.readOptions(rt)
	ro.RawOnly = true // decoded only when not rendered from the stored JSON
	r, err := h.store(c.Request.Context()).Get(c.Request.Context(), rt.Name, c.Param("id"), ro)
	if err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	if inm := c.GetHeader("If-None-Match"); inm != "" && matchesETag(inm, r.Version) {
		c.Header("ETag", etag(r.Version))
		c.Status(http.StatusNotModified)
		return
	}
	h.respondResource(c, req, rt, r, http.StatusOK, p)
}

// replace is PUT (RFC 7644 §3.5.1): the body replaces every client-settable
// attribute; immutable attributes may not change; readOnly ones are ignored.
func (h *Handler) replace(c *gin.Context, req *request, rt *schema.ResourceType) {
	attrs, members, err := h.readResource(c, rt)
	if err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	isGroup := rt.Name == store.TypeGroup
	ctx := c.Request.Context()
	for attempt := 0; ; attempt++ {
		cur, version, err := h.current(c, rt, store.ReadOptions{Members: isGroup})
		if err != nil {
			writeError(c, h.opts.Log, err)
			return
		}
		if err := schema.ImmutableViolation(rt, cur.Attrs, attrs); err != nil {
			writeError(c, h.opts.Log, err)
			return
		}
		var mc *store.MemberChange
		if isGroup {
			mc = memberDiff(cur.Members, members)
		}
		// Optimistic: retry if someone wrote in between. A group's member
		// diff was computed from this read, so it conditions on everything.
		cond := store.Condition{Version: version}
		if version == 0 {
			if isGroup {
				cond.Version = cur.Version
			} else {
				cond.AttrVersion = cur.AttrVersion
			}
		}
		j := h.journal(c, rt, kindUpdate, cur.Attrs, attrs, changedAttrs(cur.Attrs, attrs))
		r, _, err := h.store(ctx).Update(ctx, rt.Name, cur.ID, cond, attrs, mc, j)
		if errors.Is(err, store.ErrVersionMismatch) && version == 0 && attempt < maxWriteAttempts {
			backoff(ctx, attempt)
			continue
		}
		if err != nil {
			writeError(c, h.opts.Log, err)
			return
		}
		h.rolesAfterWrite(ctx, r, cur.Attrs, attrs, mc, nil, j.AuditID)
		p := projectionOf(c)
		if (r.Type == store.TypeUser && h.rolesEnabled()) || (r.Type == store.TypeGroup && p.wants(rt, "members")) {
			if fresh, err := h.store(ctx).Get(ctx, rt.Name, r.ID, p.readOptions(rt)); err == nil {
				r = fresh
			}
		}
		h.respondResource(c, req, rt, r, http.StatusOK, projectionOf(c))
		return
	}
}

// memberDiff turns a wanted member list into a change against the current one.
func memberDiff(cur, want []store.Member) *store.MemberChange {
	have := make(map[string]store.Member, len(cur))
	for _, m := range cur {
		have[m.Value] = m
	}
	mc := &store.MemberChange{}
	keep := make(map[string]bool, len(want))
	for _, m := range want {
		keep[m.Value] = true
		if old, ok := have[m.Value]; !ok || old.Display != m.Display {
			mc.Add = append(mc.Add, m)
		}
	}
	for _, m := range cur {
		if !keep[m.Value] {
			mc.Remove = append(mc.Remove, m.Value)
		}
	}
	return mc
}

func (h *Handler) delete(c *gin.Context, _ *request, rt *schema.ResourceType) {
	ctx := c.Request.Context()
	// Read first: the audit record names the deleted resource, and If-Match
	// needs the version. The delete itself checks the version it read.
	cur, version, err := h.current(c, rt, store.ReadOptions{})
	if err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	var prior []store.Member
	if rt.Name == store.TypeGroup && h.groupMapped(cur.Attrs) {
		full, err := h.store(ctx).Get(ctx, rt.Name, cur.ID, store.ReadOptions{Members: true})
		if err != nil {
			writeError(c, h.opts.Log, err)
			return
		}
		prior = full.Members
	}
	j := h.journal(c, rt, kindDelete, cur.Attrs, nil, nil)
	if err := h.store(ctx).Delete(ctx, rt.Name, cur.ID, version, j); err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	if prior != nil {
		// The members lost a mapped group; users have no membership left to read.
		if err := h.syncRoles(ctx, memberIDs(nil, prior), j.AuditID); err != nil {
			h.opts.Log.ErrorContext(ctx, "role recomputation failed", "err", err.Error(), "group", cur.ID)
		}
	}
	c.Status(http.StatusNoContent)
}
