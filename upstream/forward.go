package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/server"
	"github.com/scimgate/scimgate/server/bodyerr"
)

const mediaType = "application/scim+json"

// Options configures a Forwarder.
type Options struct {
	// PublicURL is scimgate's externally visible base URL ("" = from the
	// request); upstream locations are rewritten to it.
	PublicURL string
	// MaxConcurrency bounds upstream requests in flight (beyond: 503).
	MaxConcurrency int
	// MaxBodyBytes bounds request bodies (413 above); MaxResponseBytes
	// bounds what is read of an upstream answer (502 above; default 32 MiB).
	MaxBodyBytes     int64
	MaxResponseBytes int64
	// MaxResults, BulkMaxOperations and BulkMaxPayload are scimgate's
	// limits, advertised (the smaller of them and the upstream's) and
	// enforced.
	MaxResults        int
	BulkMaxOperations int
	BulkMaxPayload    int64
	// ChargeExtra charges n further requests to the client's rate limit
	// (see scimapi.Options.ChargeExtra); nil charges nothing.
	ChargeExtra func(c *gin.Context, n int) bool
	// Strict forwards request bodies unchanged (no compatibility rules).
	Strict bool
	// OnCompat is called with the name of every compatibility rule applied.
	OnCompat func(rule string)
	// Recorder records accepted writes (nil records nothing).
	Recorder Recorder
	// Observe, if set, is told the latency of every upstream request and
	// its outcome class: "2xx", "3xx", "4xx", "5xx", "timeout", "error".
	Observe func(class string, d time.Duration)
	// DiscoveryTTL is how long discovery answers are cached (default 60s).
	DiscoveryTTL time.Duration
	// Schemas resolves the attribute paths of the compatibility rules
	// (nil: the core User, EnterpriseUser and Group schemas).
	Schemas *schema.Registry
	Log     *slog.Logger
}

// Forwarder serves the SCIM routes by forwarding them upstream.
type Forwarder struct {
	up      *Client
	opts    Options
	slots   chan struct{}
	disc    *discoveryCache
	schemas *schema.Registry
}

// New returns a Forwarder to the upstream reached through up.
func New(up *Client, opts Options) *Forwarder {
	if opts.MaxConcurrency <= 0 {
		opts.MaxConcurrency = 64
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 32 << 20
	}
	if opts.MaxResults <= 0 {
		opts.MaxResults = 1000
	}
	if opts.BulkMaxOperations <= 0 {
		opts.BulkMaxOperations = 5000
	}
	if opts.BulkMaxPayload <= 0 {
		opts.BulkMaxPayload = 8 << 20
	}
	if opts.DiscoveryTTL <= 0 {
		opts.DiscoveryTTL = time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Schemas == nil {
		opts.Schemas = schema.NewRegistry()
	}
	return &Forwarder{up: up, opts: opts, slots: make(chan struct{}, opts.MaxConcurrency), disc: newDiscoveryCache(opts.DiscoveryTTL), schemas: opts.Schemas}
}

// Register mounts the forwarded SCIM routes on g, whose path prefix (e.g.
// "/scim/v2") is scimgate's side of the rewritten locations. g must carry
// the authentication middleware (and rate limit); each route adds its
// scope requirement, as scimapi's routes do.
func (f *Forwarder) Register(g *gin.RouterGroup) {
	prefix := g.BasePath()
	read := func(res string) gin.HandlerFunc { return auth.Require(auth.Operation{Resource: res}) }
	write := func(res string) gin.HandlerFunc { return auth.Require(auth.Operation{Resource: res, Write: true}) }
	fwd := func(rt string, kind writeKind) gin.HandlerFunc {
		return func(c *gin.Context) { f.resource(c, prefix, rt, kind) }
	}
	g.GET("/ServiceProviderConfig", read(""), func(c *gin.Context) { f.serviceProviderConfig(c, prefix) })
	g.GET("/ServiceProviderConfig/", read(""), func(c *gin.Context) { f.serviceProviderConfig(c, prefix) })
	for _, p := range []string{"/Schemas", "/Schemas/", "/Schemas/:urn", "/ResourceTypes", "/ResourceTypes/", "/ResourceTypes/:name"} {
		g.GET(p, read(""), func(c *gin.Context) { f.discovery(c, prefix) })
	}
	g.POST("/.search", read("*"), fwd("", kindRead))
	g.Any("/Me", func(c *gin.Context) {
		f.fail(c, scimerr.New(http.StatusNotImplemented, "", "/Me is not supported: the authenticated subject is a provisioning client, not a SCIM user"))
	})
	for _, rt := range []string{"User", "Group"} {
		res := rt + "s"
		ep := "/" + res
		g.GET(ep, read(res), fwd(rt, kindRead))
		g.GET(ep+"/", read(res), fwd(rt, kindRead))
		g.POST(ep, write(res), fwd(rt, kindCreate))
		g.POST(ep+"/", write(res), fwd(rt, kindCreate))
		g.POST(ep+"/.search", read(res), fwd(rt, kindRead))
		g.GET(ep+"/:id", read(res), fwd(rt, kindRead))
		g.PUT(ep+"/:id", write(res), fwd(rt, kindReplace))
		g.PATCH(ep+"/:id", write(res), fwd(rt, kindPatch))
		g.DELETE(ep+"/:id", write(res), fwd(rt, kindDelete))
	}
	g.POST("/Bulk", auth.Require(auth.Operation{}), func(c *gin.Context) { f.bulk(c, prefix) })
}

type writeKind int

const (
	kindRead writeKind = iota
	kindCreate
	kindReplace
	kindPatch
	kindDelete
)

// answer is an upstream response, read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// resource forwards one Users/Groups/search request.
func (f *Forwarder) resource(c *gin.Context, prefix, rt string, kind writeKind) {
	var body []byte
	var doc map[string]any
	if c.Request.Method == http.MethodPost || c.Request.Method == http.MethodPut || c.Request.Method == http.MethodPatch {
		raw, err := f.readBody(c, f.opts.MaxBodyBytes)
		if err != nil {
			f.fail(c, err)
			return
		}
		if doc, err = decodeObject(raw); err != nil {
			f.fail(c, err)
			return
		}
		body = raw
		if !f.opts.Strict && kind != kindRead {
			if f.normalize(doc, rt, kind == kindPatch) {
				body, _ = encodeJSON(doc)
			}
		}
	}
	path := strings.TrimPrefix(c.Request.URL.Path, prefix)
	a, err := f.send(c, c.Request.Method, path, c.Request.URL.RawQuery, body)
	if err != nil {
		f.fail(c, err)
		return
	}
	out := f.relay(c, prefix, a)
	if kind != kindRead && a.status >= 200 && a.status < 300 && f.opts.Recorder != nil {
		f.record(c, rt, kind, c.Param("id"), doc, out)
	}
}

// readBody reads a JSON request body up to limit bytes, checking the media
// type; errors are SCIM errors (413, 415, 408, 400).
func (f *Forwarder) readBody(c *gin.Context, limit int64) ([]byte, error) {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != mediaType && mt != "application/json") {
			return nil, scimerr.New(http.StatusUnsupportedMediaType, "", "Content-Type must be %s or application/json", mediaType)
		}
	}
	if c.Request.ContentLength > limit {
		return nil, scimerr.New(http.StatusRequestEntityTooLarge, "", "request body exceeds %d bytes", limit)
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, scimerr.New(http.StatusRequestEntityTooLarge, "", "request body exceeds %d bytes", limit)
		}
		var be *bodyerr.Error
		if errors.As(bodyerr.Classify(err), &be) {
			if be.Status == http.StatusBadRequest {
				return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "%s", be.Detail)
			}
			return nil, scimerr.New(be.Status, "", "%s", be.Detail)
		}
		return nil, err
	}
	return raw, nil
}

// decodeObject parses a JSON object (numbers kept exact).
func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "request body is not a JSON object")
	}
	// anything but whitespace after the object (dec.More would miss a
	// stray '}' or ']')
	if len(bytes.TrimSpace(raw[dec.InputOffset():])) > 0 {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "request body has data after the JSON object")
	}
	return doc, nil
}

func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// forwardedHeaders are the caller's headers the upstream gets; everything
// else (Authorization, cookies, hop-by-hop and forwarding headers) stays.
var forwardedHeaders = []string{"Accept", "If-Match", "If-None-Match"}

// upstreamError is an upstream failure answered with a safe detail.
type upstreamError struct {
	status int
	detail string
	cause  error
}

func (e *upstreamError) Error() string { return e.detail }

// send makes one upstream request under the concurrency limit and the
// timeout, and reads the answer.
func (f *Forwarder) send(c *gin.Context, method, path, query string, body []byte) (*answer, error) {
	return f.sendWith(c, method, path, query, body, c.GetHeader)
}

// sendWith is send with the forwarded headers taken from header.
func (f *Forwarder) sendWith(c *gin.Context, method, path, query string, body []byte, header func(string) string) (*answer, error) {
	select {
	case f.slots <- struct{}{}:
		defer func() { <-f.slots }()
	default:
		e := scimerr.New(http.StatusServiceUnavailable, "", "too many requests in flight to the upstream SCIM service; retry shortly")
		e.RetryAfter = time.Second
		return nil, e
	}
	return f.sendNow(c.Request.Context(), method, path, query, body, header, server.RequestIDFrom(c))
}

func (f *Forwarder) sendNow(ctx context.Context, method, path, query string, body []byte, header func(string) string, requestID string) (*answer, error) {
	u := f.up.Base() + path
	if query != "" {
		u += "?" + query
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, &upstreamError{http.StatusBadGateway, "the request could not be forwarded to the upstream SCIM service", err}
	}
	for _, h := range forwardedHeaders {
		if v := header(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", mediaType)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", mediaType+", application/json")
	}
	req.Header.Set("User-Agent", "scimgate")
	if requestID != "" {
		req.Header.Set("X-Request-ID", requestID)
	}
	start := time.Now()
	resp, err := f.up.do(req)
	if err != nil {
		return nil, f.transportError(ctx, err, start)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxResponseBytes+1))
	if err != nil {
		return nil, f.transportError(ctx, err, start)
	}
	f.observe(statusClass(resp.StatusCode), start)
	if int64(len(raw)) > f.opts.MaxResponseBytes {
		return nil, &upstreamError{http.StatusBadGateway, "the upstream SCIM service's answer is too large", nil}
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: raw}, nil
}

func (f *Forwarder) transportError(ctx context.Context, err error, start time.Time) error {
	if errors.Is(err, errCredential) {
		f.observe("error", start)
		return &upstreamError{http.StatusBadGateway, "the gateway could not obtain its credential for the upstream SCIM service", err}
	}
	var ne interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) || ctx.Err() != nil {
		f.observe("timeout", start)
		return &upstreamError{http.StatusGatewayTimeout, "the upstream SCIM service did not answer in time", err}
	}
	f.observe("error", start)
	return &upstreamError{http.StatusBadGateway, "the upstream SCIM service is unreachable", err}
}

func (f *Forwarder) observe(class string, start time.Time) {
	if f.opts.Observe != nil {
		f.opts.Observe(class, time.Since(start))
	}
}

func statusClass(s int) string {
	switch {
	case s >= 500:
		return "5xx"
	case s >= 400:
		return "4xx"
	case s >= 300:
		return "3xx"
	}
	return "2xx"
}

// fail answers err as a SCIM error (RFC 7644 §3.12). Upstream failures are
// logged with their cause, which the caller never sees.
func (f *Forwarder) fail(c *gin.Context, err error) {
	se := f.scimError(c, err)
	se.Header(c.Writer.Header())
	code, body := scimerr.ToBody(se)
	c.Header("Content-Type", mediaType)
	c.AbortWithStatusJSON(code, body)
}

// scimError resolves err to the SCIM error the caller gets. Upstream
// failures are logged with their cause, which the caller never sees.
func (f *Forwarder) scimError(c *gin.Context, err error) *scimerr.Error {
	var ue *upstreamError
	if errors.As(err, &ue) {
		args := []any{"status", ue.status, "detail", ue.detail, "request_id", server.RequestIDFrom(c)}
		if ue.cause != nil {
			args = append(args, "err", ue.cause.Error())
		}
		f.opts.Log.Warn("upstream SCIM request failed", args...)
		err = scimerr.New(ue.status, "", "%s", ue.detail)
	}
	return scimerr.Resolve(err)
}

// isJSON reports whether a Content-Type is SCIM's or JSON.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == mediaType || mt == "application/json")
}

// relay answers the caller with the upstream's answer: 2xx and 4xx with
// their SCIM bodies and ETag, locations rewritten; upstream 5xx as 502 (503
// and 504 keep their meaning) with a safe detail. It returns the rewritten
// body when it is a JSON object.
func (f *Forwarder) relay(c *gin.Context, prefix string, a *answer) map[string]any {
	if err := statusError(a); err != nil {
		f.fail(c, err)
		return nil
	}
	from, to := f.up.Base(), f.publicBase(c, prefix)
	if loc := a.header.Get("Location"); loc != "" {
		c.Header("Location", rewriteURL(loc, from, to))
	}
	if et := a.header.Get("ETag"); et != "" {
		c.Header("ETag", et)
	}
	if len(a.body) == 0 || a.status == http.StatusNoContent {
		c.Status(a.status)
		return nil
	}
	var doc map[string]any
	if isJSON(a.header.Get("Content-Type")) {
		doc, _ = decodeObject(a.body)
	}
	if doc == nil {
		if a.status < 300 {
			f.fail(c, &upstreamError{http.StatusBadGateway, "the upstream SCIM service sent an answer that is not SCIM JSON", nil})
		} else {
			f.fail(c, scimerr.New(a.status, "", "the upstream SCIM service refused the request"))
		}
		return nil
	}
	rewriteLocations(doc, from, to)
	out, err := encodeJSON(doc)
	if err != nil {
		f.fail(c, &upstreamError{http.StatusBadGateway, "the upstream SCIM service sent an answer that is not SCIM JSON", err})
		return nil
	}
	c.Data(a.status, mediaType, out)
	return doc
}

// statusError is the error the caller gets for an upstream status that is
// not relayed as it is (nil for 2xx and 4xx other than 401).
func statusError(a *answer) error {
	switch {
	case a.status == http.StatusUnauthorized:
		// The caller's credential was accepted by scimgate; a 401 is about
		// scimgate's own credential upstream, not something the caller can fix.
		return &upstreamError{http.StatusBadGateway, "the upstream SCIM service refused the gateway's credential", nil}
	case a.status == http.StatusServiceUnavailable || a.status == http.StatusTooManyRequests:
		e := scimerr.New(a.status, "", "the upstream SCIM service is busy; retry later")
		e.RetryAfter = retryAfter(a.header.Get("Retry-After"))
		return e
	case a.status == http.StatusGatewayTimeout:
		return &upstreamError{http.StatusGatewayTimeout, "the upstream SCIM service did not answer in time", nil}
	case a.status >= 500 || a.status < 200 || (a.status >= 300 && a.status < 400):
		return &upstreamError{http.StatusBadGateway, "the upstream SCIM service failed to answer the request", nil}
	}
	return nil
}

func retryAfter(v string) time.Duration {
	if d, err := time.ParseDuration(strings.TrimSpace(v) + "s"); err == nil && d > 0 && d <= time.Hour {
		return d
	}
	return time.Second
}

// publicBase is scimgate's SCIM base URL for this request.
func (f *Forwarder) publicBase(c *gin.Context, prefix string) string {
	base := f.opts.PublicURL
	if base == "" {
		scheme := "http"
		if c.Request.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + c.Request.Host
	}
	return strings.TrimSuffix(base, "/") + prefix
}
