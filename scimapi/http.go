package scimapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/server/bodyerr"
)

// request holds per-request values shared by the handlers.
type request struct {
	base string // base URL of the SCIM mount, e.g. https://h/scim/v2
}

func (h *Handler) newRequest(c *gin.Context, prefix string) *request {
	base := h.opts.PublicURL
	if base == "" {
		scheme := "http://"
		if c.Request.TLS != nil {
			scheme = "https://"
		}
		if host := c.Request.Host; !strings.HasSuffix(host, "/") {
			return &request{base: scheme + host + prefix} // one string, not two
		}
		base = scheme + c.Request.Host
	}
	return &request{base: strings.TrimSuffix(base, "/") + prefix}
}

// writeJSON writes v as application/scim+json.
func writeJSON(c *gin.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	writeData(c, status, b)
}

// mediaTypeHeader is the Content-Type header value of every SCIM body,
// shared by all responses as gin shares its own (nothing changes a header
// value in place).
var mediaTypeHeader = []string{MediaType}

// writeData is c.Data(status, MediaType, b) without its per-response
// allocations (the boxed renderer and the header value): the Content-Type
// unless one is set already, the status, and b where a body is allowed.
func writeData(c *gin.Context, status int, b []byte) {
	hdr := c.Writer.Header()
	if len(hdr["Content-Type"]) == 0 {
		hdr["Content-Type"] = mediaTypeHeader
	}
	c.Status(status)
	if status >= 100 && status <= 199 || status == http.StatusNoContent || status == http.StatusNotModified {
		c.Writer.WriteHeaderNow()
		return
	}
	if _, err := c.Writer.Write(b); err != nil {
		_ = c.Error(err)
		c.Abort()
	}
}

// writeError is the one place errors become SCIM error responses
// (RFC 7644 §3.12). Store errors map to their protocol meaning, Redis
// trouble to 503 with Retry-After; anything unknown is a logged 500 with a
// generic detail.
func writeError(c *gin.Context, log *slog.Logger, err error) {
	if bodyerr.ClientGone(c.Request, err) {
		log.InfoContext(c.Request.Context(), "scim request abandoned by the client", "route", c.FullPath())
		c.AbortWithStatus(bodyerr.StatusClientClosedRequest)
		return
	}
	err = toSCIMError(err)
	e := scimerr.Resolve(err)
	status, body := scimerr.ToBody(e)
	switch {
	case status == http.StatusServiceUnavailable:
		log.WarnContext(c.Request.Context(), "scim request failed: storage unavailable", "err", err.Error(), "route", c.FullPath())
	case status >= 500:
		log.ErrorContext(c.Request.Context(), "scim request failed", "err", err.Error(), "route", c.FullPath())
	}
	b, _ := json.Marshal(body)
	c.Abort()
	e.Header(c.Writer.Header())
	writeData(c, status, b)
}

func toSCIMError(err error) error {
	if _, ok := scimerr.As(err); ok {
		return err
	}
	var ue *store.UniquenessError
	var ime *store.InvalidMemberError
	var nte *store.NoTargetError
	var mbe *http.MaxBytesError
	var qe *store.QuotaError
	switch {
	case errors.Is(err, store.ErrNoDirectory):
		return scimerr.New(http.StatusForbidden, "", "the client's directory does not exist or is being deleted")
	case errors.As(err, &qe):
		return scimerr.New(http.StatusForbidden, "", "the directory holds its maximum of %d users; delete users or raise the directory's max_users", qe.Max)
	case errors.Is(err, store.ErrNotFound):
		return scimerr.NotFound("resource not found")
	case errors.Is(err, store.ErrVersionMismatch):
		return scimerr.PreconditionFailed("the resource has changed (version mismatch)")
	case errors.Is(err, store.ErrCreatedThenDeleted):
		// No scimType fits (RFC 7644 §3.12): a conflict with another
		// client's request, which the caller may resolve by creating again.
		return scimerr.New(http.StatusConflict, "", "the resource was created, then deleted by another request before this response")
	case errors.As(err, &ue):
		return scimerr.Conflict("%s is already in use", ue.Attr)
	case errors.As(err, &ime):
		return scimerr.BadRequest(scimerr.InvalidValue, "member %q does not exist", ime.ID)
	case errors.As(err, &nte):
		return scimerr.BadRequest(scimerr.NoTarget, "%q is not a member of the group", nte.ID)
	case errors.As(err, &mbe):
		return scimerr.New(http.StatusRequestEntityTooLarge, "", "request body exceeds %d bytes", mbe.Limit)
	}
	return err
}

// readBody reads a JSON object body, enforcing the size limit and the media
// type. Malformed JSON is 400 invalidSyntax (RFC 7644 §3.12).
func (h *Handler) readBody(c *gin.Context, into any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != MediaType && mt != "application/json") {
			return scimerr.New(http.StatusUnsupportedMediaType, "", "Content-Type must be %s or application/json", MediaType)
		}
	}
	if c.Request.ContentLength > h.opts.MaxBodyBytes {
		return scimerr.New(http.StatusRequestEntityTooLarge, "", "request body exceeds %d bytes", h.opts.MaxBodyBytes)
	}
	body, err := readAll(http.MaxBytesReader(c.Writer, c.Request.Body, h.opts.MaxBodyBytes), c.Request.ContentLength)
	if err != nil {
		return bodyReadError(err)
	}
	return decodeJSON(body, into)
}

// readAll reads r to its end into one buffer sized for n bytes, the
// declared Content-Length (checked against the body limit before; the
// server reads no more than it), growing it only when n is unknown (-1).
func readAll(r io.Reader, n int64) ([]byte, error) {
	if n < 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, n+1) // the +1 takes the read that reports EOF
	for {
		m, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// bodyReadError answers a body that could not be read as the client's
// error: 413 over the limit, 408 past the read timeout, 400 invalidSyntax
// when it ended early or the connection failed. None is logged at ERROR.
func bodyReadError(err error) error {
	var be *bodyerr.Error
	if !errors.As(bodyerr.Classify(err), &be) {
		return err
	}
	if be.Status == http.StatusBadRequest {
		return scimerr.BadRequest(scimerr.InvalidSyntax, "%s", be.Detail)
	}
	return scimerr.New(be.Status, "", "%s", be.Detail)
}

// decodeJSON decodes a JSON object, rejecting trailing data. It decodes
// from body itself (a json.Decoder would first copy it into a buffer of
// its own) and looks closer only at a body it refused.
func decodeJSON(body []byte, into any) error {
	if err := json.Unmarshal(body, into); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return scimerr.BadRequest(scimerr.InvalidValue, "attribute %q has the wrong type", ute.Field)
		}
		var syn *json.SyntaxError
		var first json.RawMessage
		if errors.As(err, &syn) && json.NewDecoder(bytes.NewReader(body)).Decode(&first) == nil {
			return scimerr.BadRequest(scimerr.InvalidSyntax, "request body has data after the JSON object")
		}
		return scimerr.BadRequest(scimerr.InvalidSyntax, "request body is not valid JSON")
	}
	if m, ok := into.(*map[string]any); ok && *m == nil {
		return scimerr.BadRequest(scimerr.InvalidSyntax, "request body must be a JSON object")
	}
	return nil
}

// etag renders a version as a weak entity tag (RFC 7644 §3.14).
func etag(v int64) string {
	var b [24]byte // W/"-9223372036854775808"
	t := append(b[:0], `W/"`...)
	t = strconv.AppendInt(t, v, 10)
	return string(append(t, '"')) // one allocation, not two
}

// matchesETag reports whether an If-Match / If-None-Match header value lists
// the version (or is "*"). Weak comparison, as RFC 7232 §3.2 prescribes for
// If-None-Match; RFC 7644 §3.14 uses weak tags throughout.
func matchesETag(header string, v int64) bool {
	want := strconv.FormatInt(v, 10)
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		tag = strings.TrimPrefix(tag, "W/")
		if strings.Trim(tag, `"`) == want {
			return true
		}
	}
	return false
}

// ifMatch returns the version a write must find (0 when the request has no
// If-Match), or a 412 when the current version does not match.
func ifMatch(c *gin.Context, current int64) (int64, error) {
	h := c.GetHeader("If-Match")
	if h == "" {
		return 0, nil
	}
	if !matchesETag(h, current) {
		return 0, scimerr.PreconditionFailed("If-Match does not match the current version %s", etag(current))
	}
	return current, nil
}

// splitAttrs parses a comma-separated attributes parameter.
func splitAttrs(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// intParam parses an optional integer query parameter.
func intParam(c *gin.Context, name string) (int, bool, error) {
	raw, ok := c.GetQuery(name)
	if !ok || raw == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, false, scimerr.BadRequest(scimerr.InvalidValue, "%s must be an integer", name)
	}
	return n, true, nil
}
