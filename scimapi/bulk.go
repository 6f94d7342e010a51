package scimapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/server"
)

// bulkRequest is the BulkRequest message (RFC 7644 §3.7).
type bulkRequest struct {
	Schemas      []string        `json:"schemas"`
	FailOnErrors *int            `json:"failOnErrors"`
	Operations   []bulkOperation `json:"Operations"`
}

type bulkOperation struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId,omitempty"`
	Version string          `json:"version,omitempty"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data,omitempty"`
}

type bulkResult struct {
	Method   string `json:"method"`
	BulkID   string `json:"bulkId,omitempty"`
	Version  string `json:"version,omitempty"`
	Location string `json:"location,omitempty"`
	Status   string `json:"status"`
	Response any    `json:"response,omitempty"`
}

// bulk is POST /Bulk (RFC 7644 §3.7). Each operation is dispatched through
// the regular routes on the internal engine, with the caller's principal,
// so it is validated, scope-checked, audited and published exactly like a
// single request. "bulkId:<id>" references in paths and data are replaced
// by the ids of the resources the referenced POST operations created; an
// operation whose referent is not created yet waits for it (§3.7.2), and
// one whose referent failed or never comes fails with invalidValue.
func (h *Handler) bulk(c *gin.Context, internal *gin.Engine, prefix string) {
	if c.Request.ContentLength > h.opts.BulkMaxPayload {
		writeError(c, h.opts.Log, scimerr.New(http.StatusRequestEntityTooLarge, "", "the bulk request exceeds maxPayloadSize (%d bytes)", h.opts.BulkMaxPayload))
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, h.opts.BulkMaxPayload))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); !ok {
			writeError(c, h.opts.Log, bodyReadError(err)) // 408 or 400: the client's failure
			return
		}
		writeError(c, h.opts.Log, scimerr.New(http.StatusRequestEntityTooLarge, "", "the bulk request exceeds maxPayloadSize (%d bytes)", h.opts.BulkMaxPayload))
		return
	}
	var req bulkRequest
	if err := decodeJSON(raw, &req); err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	if len(req.Operations) > h.opts.BulkMaxOperations {
		writeError(c, h.opts.Log, scimerr.New(http.StatusRequestEntityTooLarge, "", "the bulk request has %d operations; maxOperations is %d", len(req.Operations), h.opts.BulkMaxOperations))
		return
	}
	if err := validateBulk(req.Operations); err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	// The rate limit counts operations, not requests: charge the rest
	// before any operation runs, so a refused bulk changes nothing.
	if h.opts.ChargeExtra != nil && len(req.Operations) > 1 && !h.opts.ChargeExtra(c, len(req.Operations)-1) {
		return
	}
	failLimit := 0 // 0: process everything (RFC 7644 §3.7.3)
	if req.FailOnErrors != nil {
		failLimit = *req.FailOnErrors
	}

	ids := map[string]string{} // bulkId -> created resource id
	results := make([]*bulkResult, len(req.Operations))
	steps := make([]BulkStep, len(req.Operations))
	for i, op := range req.Operations {
		steps[i] = BulkStep{BulkID: op.BulkID, Refs: references(op)}
	}
	RunBulk(steps, failLimit, func(ref string) bool { _, ok := ids[ref]; return ok },
		func(i int) bool {
			results[i] = h.dispatch(c, internal, prefix, req.Operations[i], ids)
			return results[i].Status[0] < '4'
		},
		func(i int, err *scimerr.Error) { results[i] = bulkError(req.Operations[i], err) })
	out := make([]*bulkResult, 0, len(results))
	for _, r := range results {
		if r != nil { // unprocessed after failOnErrors was reached
			out = append(out, r)
		}
	}
	writeJSON(c, http.StatusOK, map[string]any{"schemas": []string{BulkResponseURN}, "Operations": out})
}

func validateBulk(ops []bulkOperation) error {
	seen := map[string]bool{}
	for i, op := range ops {
		switch strings.ToUpper(op.Method) {
		case "POST", "PUT", "PATCH", "DELETE":
		default:
			return scimerr.BadRequest(scimerr.InvalidSyntax, "operation %d: method must be POST, PUT, PATCH or DELETE", i)
		}
		if !strings.HasPrefix(op.Path, "/") {
			return scimerr.BadRequest(scimerr.InvalidSyntax, "operation %d: path must start with /", i)
		}
		if strings.ToUpper(op.Method) == "POST" && op.BulkID == "" {
			return scimerr.BadRequest(scimerr.InvalidSyntax, "operation %d: POST requires a bulkId (RFC 7644 §3.7)", i)
		}
		if op.BulkID != "" {
			if seen[op.BulkID] {
				return scimerr.BadRequest(scimerr.InvalidSyntax, "bulkId %q is used twice", op.BulkID)
			}
			seen[op.BulkID] = true
		}
	}
	return nil
}

// references lists the bulkIds an operation's path and data refer to.
func references(op bulkOperation) []string {
	var out []string
	for _, m := range BulkRef.FindAllStringSubmatch(op.Path+" "+string(op.Data), -1) {
		if m[1] != op.BulkID {
			out = append(out, m[1])
		}
	}
	return out
}

func resolve(s string, ids map[string]string) string {
	return BulkRef.ReplaceAllStringFunc(s, func(m string) string {
		if id, ok := ids[strings.TrimPrefix(m, "bulkId:")]; ok {
			return id
		}
		return m
	})
}

func bulkError(op bulkOperation, err *scimerr.Error) *bulkResult {
	_, body := scimerr.ToBody(err)
	return &bulkResult{Method: op.Method, BulkID: op.BulkID, Status: body.Status, Response: body}
}

// dispatch runs one operation through the internal engine.
func (h *Handler) dispatch(c *gin.Context, internal *gin.Engine, prefix string, op bulkOperation, ids map[string]string) *bulkResult {
	method := strings.ToUpper(op.Method)
	path := prefix + resolve(op.Path, ids)
	var body io.Reader
	if len(op.Data) > 0 {
		body = strings.NewReader(resolve(string(op.Data), ids))
	}
	sub := httptest.NewRequest(method, path, body).WithContext(c.Request.Context())
	sub.Host = c.Request.Host
	sub.TLS = c.Request.TLS
	sub.RemoteAddr = c.Request.RemoteAddr
	sub.Header.Set("Content-Type", MediaType)
	sub.Header.Set(server.RequestIDHeader, server.RequestIDFrom(c))
	if op.Version != "" {
		sub.Header.Set("If-Match", op.Version)
	}
	w := httptest.NewRecorder()
	internal.ServeHTTP(w, sub)
	res := &bulkResult{Method: op.Method, BulkID: op.BulkID, Status: strconv.Itoa(w.Code)}
	res.Version = w.Header().Get("ETag")
	res.Location = w.Header().Get("Location")
	if w.Code >= 400 {
		var errBody any
		if json.Unmarshal(w.Body.Bytes(), &errBody) == nil {
			res.Response = errBody
		}
		return res
	}
	if method == "POST" {
		var created struct {
			ID   string         `json:"id"`
			Meta map[string]any `json:"meta"`
		}
		if err := json.NewDecoder(bytes.NewReader(w.Body.Bytes())).Decode(&created); err == nil && created.ID != "" {
			ids[op.BulkID] = created.ID
		}
	} else if res.Location == "" && method != "DELETE" {
		res.Location = h.newRequest(c, "").base + path
	}
	return res
}
