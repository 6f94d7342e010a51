package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/scimapi/store"
)

// BrowsePageSize is how many Users, Groups or members a browser page shows.
const BrowsePageSize = 50

// Resources reads a directory's provisioned Users and Groups through the
// SCIM layer's own query code (scimapi.Handler implements it), so the
// console sees exactly what a SCIM client would, under the same filter
// limits and scan budget.
type Resources interface {
	// List returns the page of resources of type rtName (store.TypeUser,
	// store.TypeGroup) matching a SCIM filter ("" for all).
	List(ctx context.Context, dir, rtName, filter string, startIndex, count int) (scimapi.Page, error)
	// Get returns one resource with its groups or members.
	Get(ctx context.Context, dir, rtName, id string) (*store.Resource, error)
}

// browseKind describes the Users or the Groups browser.
type browseKind struct {
	typ, path, title string
}

var (
	usersKind  = browseKind{typ: store.TypeUser, path: "users", title: "Users"}
	groupsKind = browseKind{typ: store.TypeGroup, path: "groups", title: "Groups"}
)

// searchFilter turns the search box's text into a SCIM filter matching a
// userName or displayName starting with it, or an externalId equal to it
// (Groups have no userName). The text is a JSON string literal, as RFC
// 7644 §3.4.2.2 compValue requires, so quotes and backslashes in it are
// data, never filter syntax.
func searchFilter(typ, q string) string {
	if q == "" {
		return ""
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(q) // a string always encodes
	lit := strings.TrimSuffix(b.String(), "\n")
	f := "displayName sw " + lit + " or externalId eq " + lit
	if typ == store.TypeUser {
		f = "userName sw " + lit + " or " + f
	}
	return f
}

// resourceRow is one line of the Users or Groups list.
type resourceRow struct {
	ID, Name, DisplayName, ExternalID string
	Active                            *bool
	Modified                          time.Time
}

// pager is the paging of a list (startIndex is 1-based, as in SCIM).
type pager struct {
	Start, Count, Total int
	// Prev and Next are the query strings of the neighbour pages ("" when
	// there is none).
	Prev, Next string
}

func newPager(start, shown, total int, q url.Values) pager {
	p := pager{Start: start, Count: shown, Total: total}
	link := func(s int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("start", strconv.Itoa(s))
		return "?" + v.Encode()
	}
	switch {
	case start > total && total > 0:
		// Past the end: back to the last page.
		p.Prev = link((total-1)/BrowsePageSize*BrowsePageSize + 1)
	case start > 1:
		p.Prev = link(max(start-BrowsePageSize, 1))
	}
	if start-1+shown < total && shown > 0 {
		p.Next = link(start + shown)
	}
	return p
}

// End is the 1-based position of the page's last row.
func (p pager) End() int { return p.Start + p.Count - 1 }

// browsePage is the data of the Users and Groups lists.
type browsePage struct {
	Directory adminapi.DirectoryJSON
	Kind      string // "users" or "groups"
	Query     string
	Filter    string
	// Upstream is set when the directory's data lives behind the
	// upstream SCIM server (gateway mode): nothing to show here.
	Upstream bool
	Error    string
	Rows     []resourceRow
	Pager    pager
}

// startParam reads ?start= (1 when missing or not a positive number).
func startParam(ctx *gin.Context) int {
	n, err := strconv.Atoi(ctx.Query("start"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func (c *Console) listUsers(ctx *gin.Context)  { c.browse(ctx, usersKind) }
func (c *Console) listGroups(ctx *gin.Context) { c.browse(ctx, groupsKind) }

// browseDirectory reads the directory of the route and whether its data
// is browsable here; false means a page has been sent.
func (c *Console) browseDirectory(ctx *gin.Context) (adminapi.DirectoryJSON, bool, bool) {
	d, err := c.svc.Directory(ctx.Request.Context(), ctx.Param("id"))
	if err != nil {
		c.fail(ctx, err)
		return d, false, false
	}
	upstream := d.Backend != directory.BackendStored || slices.Contains(c.upstream, d.ID)
	return d, upstream, true
}

func (c *Console) browse(ctx *gin.Context, k browseKind) {
	d, upstream, ok := c.browseDirectory(ctx)
	if !ok {
		return
	}
	title := k.title + " of " + d.Name
	page := browsePage{Directory: d, Kind: k.path, Query: strings.TrimSpace(ctx.Query("q")), Upstream: upstream || c.resources == nil}
	if page.Upstream {
		c.render(ctx, http.StatusOK, "browse", title, page)
		return
	}
	page.Filter = searchFilter(k.typ, page.Query)
	start := startParam(ctx)
	res, err := c.resources.List(ctx.Request.Context(), d.ID, k.typ, page.Filter, start, BrowsePageSize)
	if status, msg, ok := c.browseError(ctx, err); !ok {
		return
	} else if msg != "" {
		page.Error = msg
		c.render(ctx, status, "browse", title, page)
		return
	}
	for _, r := range res.Resources {
		page.Rows = append(page.Rows, rowOf(r))
	}
	q := url.Values{}
	if page.Query != "" {
		q.Set("q", page.Query)
	}
	page.Pager = newPager(start, len(res.Resources), res.Total, q)
	c.render(ctx, http.StatusOK, "browse", title, page)
}

// browseError sorts a read error: ok false when a failure page has been
// sent; otherwise msg (when not "") is a refusal of the input (a filter
// over the limits, a search over the scan budget) to show with status.
func (c *Console) browseError(ctx *gin.Context, err error) (status int, msg string, ok bool) {
	var se *scimerr.Error
	switch {
	case err == nil:
		return 0, "", true
	case errors.Is(err, store.ErrNoDirectory):
		c.fail(ctx, directory.ErrNotFound)
		return 0, "", false
	case errors.As(err, &se) && se.Status < 500:
		return se.Status, se.Detail, true
	case errors.As(err, &se):
		if v := se.RetryAfterValue(); v != "" {
			ctx.Header("Retry-After", v)
		}
		return se.Status, "The search could not be completed: " + se.Detail, true
	default:
		c.fail(ctx, err)
		return 0, "", false
	}
}

func rowOf(r *store.Resource) resourceRow {
	s := func(k string) string { v, _ := r.Attrs[k].(string); return v }
	row := resourceRow{ID: r.ID, Name: s("userName"), DisplayName: s("displayName"), ExternalID: s("externalId"), Modified: r.Modified}
	if a, ok := r.Attrs["active"].(bool); ok {
		row.Active = &a
	}
	return row
}

// attribute is one top-level attribute of a resource page: strings as
// they are, everything else as indented JSON (escaped by html/template).
type attribute struct {
	Name, Value string
	JSON        bool
}

func attributesOf(r *store.Resource) []attribute {
	names := make([]string, 0, len(r.Attrs))
	for k := range r.Attrs {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([]attribute, 0, len(names))
	for _, n := range names {
		if s, ok := r.Attrs[n].(string); ok {
			out = append(out, attribute{Name: n, Value: s})
			continue
		}
		b, err := json.MarshalIndent(r.Attrs[n], "", "  ")
		if err != nil {
			b = []byte(fmt.Sprint(r.Attrs[n]))
		}
		out = append(out, attribute{Name: n, Value: string(b), JSON: true})
	}
	return out
}

// resourcePage is the data of a user's or a group's page.
type resourcePage struct {
	Directory  adminapi.DirectoryJSON
	Kind       string
	Resource   *store.Resource
	Row        resourceRow
	Attributes []attribute
	// Groups are a user's groups; Members a page of a group's members.
	Groups  []store.Member
	Members []store.Member
	Pager   pager
}

func (c *Console) showUser(ctx *gin.Context)  { c.showResource(ctx, usersKind) }
func (c *Console) showGroup(ctx *gin.Context) { c.showResource(ctx, groupsKind) }

func (c *Console) showResource(ctx *gin.Context, k browseKind) {
	d, upstream, ok := c.browseDirectory(ctx)
	if !ok {
		return
	}
	if upstream || c.resources == nil {
		c.render(ctx, http.StatusOK, "browse", k.title+" of "+d.Name, browsePage{Directory: d, Kind: k.path, Upstream: true})
		return
	}
	r, err := c.resources.Get(ctx.Request.Context(), d.ID, k.typ, ctx.Param("rid"))
	if errors.Is(err, store.ErrNotFound) {
		c.render(ctx, http.StatusNotFound, "error", "Not found", errorPage{
			Message: "That " + strings.ToLower(k.typ) + " does not exist in directory " + d.Name + " (any more).", Back: Prefix + "/directories/" + d.ID + "/" + k.path})
		return
	}
	if _, _, ok := c.browseError(ctx, err); !ok {
		return
	} else if err != nil {
		c.fail(ctx, err)
		return
	}
	page := resourcePage{Directory: d, Kind: k.path, Resource: r, Row: rowOf(r), Attributes: attributesOf(r), Groups: r.Groups}
	if k.typ == store.TypeGroup {
		start := startParam(ctx)
		lo := min(start-1, len(r.Members))
		page.Members = r.Members[lo:min(lo+BrowsePageSize, len(r.Members))]
		page.Pager = newPager(start, len(page.Members), len(r.Members), url.Values{})
	}
	name := page.Row.Name
	if name == "" {
		name = page.Row.DisplayName
	}
	if name == "" {
		name = r.ID
	}
	c.render(ctx, http.StatusOK, "resource", strings.TrimSuffix(k.title, "s")+" "+name, page)
}
