// Package scimapi serves the SCIM 2.0 protocol (RFC 7644) over the resource
// store: Users, Groups, search, and the discovery endpoints. Handlers read
// the authenticated principal from the request context (set by the auth
// middleware) and never parse credentials themselves. Every error leaves
// through one function, writeError, as an RFC 7644 §3.12 error body.
package scimapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/roles"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/server"
	"github.com/scimgate/scimgate/server/reqscope"
	"github.com/scimgate/scimgate/tokenstore"
)

// Media types.
const (
	MediaType = "application/scim+json"
)

// Message URNs (RFC 7644 §3.4.2, §3.4.3, §3.5.2).
const (
	ListResponseURN  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SearchRequestURN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	PatchOpURN       = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	BulkRequestURN   = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	BulkResponseURN  = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	SPConfigURN      = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
)

// Options configures the SCIM layer.
type Options struct {
	// PublicURL is the externally visible base URL ("" = from the request).
	PublicURL string
	// MaxBodyBytes bounds request bodies (413 above).
	MaxBodyBytes int64
	// MaxResults caps page sizes (advertised as filter.maxResults).
	MaxResults int
	// Strict turns the IdP compatibility rules off.
	Strict bool
	// OnCompat is called with the name of every compatibility rule applied.
	OnCompat func(rule string)
	// AuditMaxLen is the approximate length of the audit and change-event
	// streams (0 = one million).
	AuditMaxLen int64
	// BulkMaxOperations and BulkMaxPayload bound POST /Bulk (RFC 7644
	// §3.7.4); advertised in /ServiceProviderConfig.
	BulkMaxOperations int
	BulkMaxPayload    int64
	// ChargeExtra charges n requests, beyond the one the rate limiter
	// already counted, to the client's rate limit; /Bulk calls it with
	// its operation count minus one before running any operation. It
	// reports whether the request may go on; when not, it has answered
	// (429 with Retry-After, ...). nil: nothing is charged.
	// ratelimit.ClientLimiter.Charge is one.
	ChargeExtra func(c *gin.Context, n int) bool
	// Limits bounds filters, PATCH requests, attributes lists and sortBy
	// (zero fields: defaults); advertised in /ServiceProviderConfig.
	Limits Limits
	// Roles maps IdP groups and the roles attribute to an effective
	// application role (nil = no role mapping). When set, the registry
	// should carry schema.RoleExtension.
	Roles *roles.Mapper
	// ScanRows and ScanTime bound what one list or search may examine
	// when no index serves its filter, or it sorts; SortWindow is the
	// largest startIndex+count-1 served with sortBy (each 400 tooMany
	// when exceeded; defaults DefaultScanRows, DefaultScanTime,
	// DefaultSortWindow).
	ScanRows   int
	ScanTime   time.Duration
	SortWindow int
	Log        *slog.Logger
}

// Handler serves SCIM over the stores of the directories.
type Handler struct {
	reg      *schema.Registry
	backends Backends
	opts     Options
	filters  filterCache
	canon    map[*schema.ResourceType]canonPlan // see fastrender.go
	// responseBufs pools the buffers single resources are rendered into
	// (*[]byte, respondResource).
	responseBufs sync.Pool
}

// Backends resolves a directory to the store holding its resources. Every
// SCIM request runs on the store of its principal's directory
// (auth.Principal.DirectoryID) and nothing else: ids, filters, bulkIds and
// member $refs are all resolved in that store, so no request can reach
// another directory. directory.Backends is the production resolver.
type Backends interface {
	// For returns directory id's store ("" is the default directory), an
	// error wrapping store.ErrNoDirectory when the directory does not
	// exist or is being deleted, or the storage error.
	For(ctx context.Context, directoryID string) (store.Store, error)
}

// Single serves the default directory from st and refuses every other
// directory: for tests and tools that know one store.
func Single(st store.Store) Backends { return single{st} }

type single struct{ st store.Store }

func (s single) For(_ context.Context, id string) (store.Store, error) {
	if id != "" && id != tokenstore.DefaultDirectory {
		return nil, fmt.Errorf("directory %s: %w", id, store.ErrNoDirectory)
	}
	return s.st, nil
}

// storeKey carries the request's directory store in its context.
type storeKey struct{}

// withDirectory is the middleware of every SCIM route (after
// authentication): it resolves the principal's directory and puts its
// store in the request context. /Bulk operations pass through it again on
// the internal engine with the same principal.
func (h *Handler) withDirectory(c *gin.Context) {
	dir := ""
	if p, ok := auth.FromContext(c.Request.Context()); ok {
		dir = p.DirectoryID
	}
	st, err := h.backends.For(c.Request.Context(), dir)
	if err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	reqscope.Set(c, storeKey{}, st)
	c.Next()
}

// store returns the request's directory store, set by withDirectory. A
// route without that middleware is a bug: it panics rather than guess a
// directory.
func (h *Handler) store(ctx context.Context) store.Store {
	st, ok := ctx.Value(storeKey{}).(store.Store)
	if !ok {
		panic("scimapi: no directory store in the request context")
	}
	return st
}

// New returns a Handler serving each request from its directory's store
// in b (Single(st) for one store).
func New(reg *schema.Registry, b Backends, opts Options) *Handler {
	if opts.MaxResults <= 0 {
		opts.MaxResults = 1000
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.BulkMaxOperations <= 0 {
		opts.BulkMaxOperations = 5000
	}
	if opts.BulkMaxPayload <= 0 {
		opts.BulkMaxPayload = 8 << 20
	}
	if opts.ScanRows <= 0 {
		opts.ScanRows = DefaultScanRows
	}
	if opts.ScanTime <= 0 {
		opts.ScanTime = DefaultScanTime
	}
	if opts.SortWindow <= 0 {
		opts.SortWindow = DefaultSortWindow
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	opts.Limits = opts.Limits.WithDefaults()
	canon := map[*schema.ResourceType]canonPlan{reg.Users(): newCanonPlan(reg.Users()), reg.Groups(): newCanonPlan(reg.Groups())}
	return &Handler{reg: reg, backends: b, opts: opts, filters: filterCache{limits: opts.Limits.Filter}, canon: canon}
}

// Register mounts the SCIM routes on g, whose path prefix (e.g. "/scim/v2")
// is used for meta.location. g must already carry the authentication
// middleware; each route adds its scope requirement.
func (h *Handler) Register(g *gin.RouterGroup) {
	prefix := g.BasePath()
	h.routes(g, prefix)
	// Bulk operations run through the same routes (and so the same
	// validation, scope checks, audit and events) on an internal engine.
	internal := gin.New()
	internal.ContextWithFallback = true
	internal.Use(server.RequestID())
	h.routes(internal.Group(prefix), prefix)
	g.POST("/Bulk", h.withDirectory, auth.Require(auth.Operation{}), func(c *gin.Context) { h.bulk(c, internal, prefix) })
}

func (h *Handler) routes(g *gin.RouterGroup, prefix string) {
	g = g.Group("", h.withDirectory)
	read := func(res string) gin.HandlerFunc { return auth.Require(auth.Operation{Resource: res}) }
	write := func(res string) gin.HandlerFunc { return auth.Require(auth.Operation{Resource: res, Write: true}) }
	with := func(hf func(*gin.Context, *request)) gin.HandlerFunc {
		return func(c *gin.Context) {
			if err := h.checkQuery(c); err != nil {
				writeError(c, h.opts.Log, err)
				return
			}
			hf(c, h.newRequest(c, prefix))
		}
	}

	// Discovery answers with or without a trailing slash, as the resource
	// endpoints do.
	for _, d := range []struct {
		path string
		hf   func(*gin.Context, *request)
	}{{"/ServiceProviderConfig", h.serviceProviderConfig}, {"/Schemas", h.schemas}, {"/ResourceTypes", h.resourceTypes}} {
		g.GET(d.path, read(""), with(d.hf))
		g.GET(d.path+"/", read(""), with(d.hf))
	}
	g.GET("/Schemas/:urn", read(""), with(h.schema))
	g.GET("/ResourceTypes/:name", read(""), with(h.resourceType))
	g.POST("/.search", read("*"), with(h.rootSearch))
	// RFC 7644 §3.11: a service provider without /Me answers 501. SCIM
	// clients here are provisioning systems, not end users.
	g.Any("/Me", func(c *gin.Context) {
		writeError(c, h.opts.Log, scimerr.New(http.StatusNotImplemented, "", "/Me is not supported: the authenticated subject is a provisioning client, not a SCIM user"))
	})

	for _, rt := range []*schema.ResourceType{h.reg.Users(), h.reg.Groups()} {
		rt := rt
		res := rt.Endpoint[1:]
		bind := func(hf func(*gin.Context, *request, *schema.ResourceType)) gin.HandlerFunc {
			return with(func(c *gin.Context, req *request) { hf(c, req, rt) })
		}
		// The trailing-slash forms are what Entra sends ("/Users/?filter=…").
		g.GET(rt.Endpoint, read(res), bind(h.list))
		g.GET(rt.Endpoint+"/", read(res), bind(h.list))
		g.POST(rt.Endpoint, write(res), bind(h.create))
		g.POST(rt.Endpoint+"/", write(res), bind(h.create))
		g.POST(rt.Endpoint+"/.search", read(res), bind(h.search))
		g.GET(rt.Endpoint+"/:id", read(res), bind(h.get))
		g.PUT(rt.Endpoint+"/:id", write(res), bind(h.replace))
		g.PATCH(rt.Endpoint+"/:id", write(res), bind(h.patch))
		g.DELETE(rt.Endpoint+"/:id", write(res), bind(h.delete))
	}
}
