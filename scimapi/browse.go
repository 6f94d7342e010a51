package scimapi

import (
	"context"
	"fmt"

	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

// Page is one page of a read-only listing (List).
type Page struct {
	// Total is the number of resources matching the filter.
	Total int
	// Resources are the page's resources in id order, without derived
	// data (a user's groups, a group's members).
	Resources []*store.Resource
}

// List is the read-only query of GET /Users or /Groups for other
// in-process readers such as the admin console: it resolves directory dir
// ("" is the default) through the same Backends and runs filter (SCIM
// filter syntax, "" for all) over resource type rtName ("User" or
// "Group") with the same compiled-filter cache, filter limits, index
// planner and scan budget as a SCIM request. startIndex is 1-based (below
// 1 reads as 1); count is capped at scim.max_results. Errors are
// *scimerr.Error for bad input (invalidFilter, tooMany), wrap
// store.ErrNoDirectory for an unknown directory, or are the storage error.
func (h *Handler) List(ctx context.Context, dir, rtName, filter string, startIndex, count int) (Page, error) {
	rt, ctx, err := h.browse(ctx, dir, rtName)
	if err != nil {
		return Page{}, err
	}
	lp := listParams{filter: filter}
	if err := h.finishParams(&lp, startIndex, true, count, true, nil); err != nil {
		return Page{}, err
	}
	pg, err := h.query(ctx, []*schema.ResourceType{rt}, lp)
	if err != nil {
		return Page{}, err
	}
	out := Page{Total: pg.total, Resources: make([]*store.Resource, 0, len(pg.hits))}
	for _, ht := range pg.hits {
		// A page may be read raw (only the stored JSON, for rendering);
		// the viewer needs the attributes.
		if err := ht.res.DecodeAttrs(); err != nil {
			return Page{}, err
		}
		out.Resources = append(out.Resources, ht.res)
	}
	return out, nil
}

// Get reads one resource of directory dir for a read-only viewer, with its
// derived data: a user's groups (and effective role), a group's members.
// A missing resource is store.ErrNotFound.
func (h *Handler) Get(ctx context.Context, dir, rtName, id string) (*store.Resource, error) {
	rt, ctx, err := h.browse(ctx, dir, rtName)
	if err != nil {
		return nil, err
	}
	ro := store.ReadOptions{Groups: true}
	if rt.Name == store.TypeGroup {
		ro = store.ReadOptions{Members: true}
	}
	return h.store(ctx).Get(ctx, rt.Name, id, ro)
}

// browse resolves rtName and puts directory dir's store in ctx, as
// withDirectory does for a SCIM request.
func (h *Handler) browse(ctx context.Context, dir, rtName string) (*schema.ResourceType, context.Context, error) {
	var rt *schema.ResourceType
	switch rtName {
	case store.TypeUser:
		rt = h.reg.Users()
	case store.TypeGroup:
		rt = h.reg.Groups()
	default:
		return nil, ctx, fmt.Errorf("scimapi: unknown resource type %q", rtName)
	}
	st, err := h.backends.For(ctx, dir)
	if err != nil {
		return nil, ctx, err
	}
	return rt, context.WithValue(ctx, storeKey{}, st), nil
}
