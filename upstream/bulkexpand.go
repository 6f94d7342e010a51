package upstream

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// bulkOp is one operation of a bulk request expanded into single requests.
type bulkOp struct {
	method  string // upper case
	bulkID  string
	version string
	res     string // "Users" or "Groups"
	id      string // the path's id (PUT, PATCH, DELETE), maybe a bulkId reference
	data    map[string]any
	kind    writeKind
	rt      string // "User" or "Group"
}

// parseExpanded checks the operations of a bulk request that scimgate
// expands itself, before anything is sent upstream: POST needs a bulkId
// (RFC 7644 §3.7) and the collection's path, the other methods a
// resource's path; bulkIds are unique.
func parseExpanded(ops []any, kinds []writeKind, types []string) ([]*bulkOp, error) {
	out := make([]*bulkOp, len(ops))
	seen := map[string]bool{}
	for i, o := range ops {
		m, _ := o.(map[string]any)
		op := &bulkOp{kind: kinds[i], rt: types[i]}
		method, _ := m["method"].(string)
		op.method = strings.ToUpper(method)
		op.bulkID, _ = m["bulkId"].(string)
		op.version, _ = m["version"].(string)
		path, _ := m["path"].(string)
		res, id, hasID := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		op.res, op.id = res, id
		switch {
		case op.method == http.MethodPost && op.bulkID == "":
			return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "operation %d: POST requires a bulkId (RFC 7644 §3.7)", i+1)
		case op.method == http.MethodPost && hasID:
			return nil, scimerr.BadRequest(scimerr.InvalidValue, "operation %d: POST must name /Users or /Groups", i+1)
		case op.method != http.MethodPost && (id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/?#")):
			return nil, scimerr.BadRequest(scimerr.InvalidValue, "operation %d: %s must name one resource, /%s/{id}", i+1, op.method, res)
		}
		if op.bulkID != "" {
			if seen[op.bulkID] {
				return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "bulkId %q is used twice", op.bulkID)
			}
			seen[op.bulkID] = true
		}
		if op.method != http.MethodDelete {
			if op.data, _ = m["data"].(map[string]any); op.data == nil {
				return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "operation %d: %s requires a data object", i+1, op.method)
			}
		}
		out[i] = op
	}
	return out, nil
}

// failOnErrors reads the BulkRequest's failOnErrors (0 = process all).
func failOnErrors(doc map[string]any) (int, error) {
	v, ok := doc["failOnErrors"]
	if !ok || v == nil {
		return 0, nil
	}
	n, ok := v.(json.Number)
	limit, err := n.Int64()
	if !ok || err != nil || limit < 0 {
		return 0, scimerr.BadRequest(scimerr.InvalidValue, "failOnErrors must be a non-negative integer")
	}
	return int(min(limit, 1<<30)), nil
}

// expandBulk runs a bulk request against an upstream without /Bulk: each
// operation becomes one forwarded request, in order, with bulkId
// references replaced by the ids the upstream gave the resources created
// earlier in the request (an operation whose referent comes later waits
// for it, RFC 7644 §3.7.2). After failOnErrors errors the rest is not
// sent (§3.7.3). Each accepted write is recorded as a single one is.
func (f *Forwarder) expandBulk(c *gin.Context, prefix string, ops []*bulkOp, failLimit int) {
	ids := map[string]string{} // bulkId -> id the upstream created
	results := make([]map[string]any, len(ops))
	steps := make([]scimapi.BulkStep, len(ops))
	for i, op := range ops {
		steps[i] = scimapi.BulkStep{BulkID: op.bulkID, Refs: op.references()}
	}
	scimapi.RunBulk(steps, failLimit, func(ref string) bool { _, ok := ids[ref]; return ok },
		func(i int) bool {
			results[i] = f.forwardOne(c, prefix, ops[i], ids)
			s, _ := results[i]["status"].(string)
			return strings.HasPrefix(s, "2")
		},
		func(i int, err *scimerr.Error) { results[i] = f.bulkError(c, ops[i], err) })
	out := make([]any, 0, len(results))
	for _, r := range results {
		if r != nil { // not sent after failOnErrors was reached
			out = append(out, r)
		}
	}
	body, err := encodeJSON(map[string]any{"schemas": []string{scimapi.BulkResponseURN}, "Operations": out})
	if err != nil {
		f.fail(c, err)
		return
	}
	c.Data(http.StatusOK, mediaType, body)
}

// references lists the bulkIds the operation's path and data refer to.
func (op *bulkOp) references() []string {
	var out []string
	add := func(s string) {
		for _, m := range scimapi.BulkRef.FindAllStringSubmatch(s, -1) {
			if m[1] != op.bulkID {
				out = append(out, m[1])
			}
		}
	}
	add(op.id)
	walkStrings(op.data, func(s string) string { add(s); return s })
	return out
}

// walkStrings replaces every string value (not key) in v by fn's result.
// Nesting is bounded by the JSON decoder.
func walkStrings(v any, fn func(string) string) any {
	switch t := v.(type) {
	case string:
		return fn(t)
	case map[string]any:
		for k, e := range t {
			t[k] = walkStrings(e, fn)
		}
	case []any:
		for i, e := range t {
			t[i] = walkStrings(e, fn)
		}
	}
	return v
}

// resolveRefs replaces the bulkId references in s by the created ids.
func resolveRefs(s string, ids map[string]string) string {
	if !strings.Contains(s, "bulkId:") {
		return s
	}
	return scimapi.BulkRef.ReplaceAllStringFunc(s, func(m string) string {
		if id, ok := ids[strings.TrimPrefix(m, "bulkId:")]; ok {
			return id
		}
		return m
	})
}

// bulkError is the result of an operation that failed with err.
func (f *Forwarder) bulkError(c *gin.Context, op *bulkOp, err error) map[string]any {
	code, body := scimerr.ToBody(f.scimError(c, err))
	r := op.result()
	r["status"] = strconv.Itoa(code)
	r["response"] = body
	return r
}

func (op *bulkOp) result() map[string]any {
	r := map[string]any{"method": op.method}
	if op.bulkID != "" {
		r["bulkId"] = op.bulkID
	}
	return r
}

// forwardOne sends one operation upstream and builds its result: status,
// location and version for a success, the SCIM error for a failure.
func (f *Forwarder) forwardOne(c *gin.Context, prefix string, op *bulkOp, ids map[string]string) map[string]any {
	path := "/" + op.res
	id := resolveRefs(op.id, ids)
	if op.method != http.MethodPost {
		if id == "." || id == ".." || strings.ContainsAny(id, "/?#") {
			return f.bulkError(c, op, scimerr.BadRequest(scimerr.InvalidValue, "the referenced id cannot name a resource"))
		}
		path += "/" + url.PathEscape(id)
	}
	var body []byte
	if op.data != nil {
		walkStrings(op.data, func(s string) string { return resolveRefs(s, ids) })
		if !f.opts.Strict {
			f.normalize(op.data, op.rt, op.kind == kindPatch)
		}
		var err error
		if body, err = encodeJSON(op.data); err != nil {
			return f.bulkError(c, op, err)
		}
	}
	accept := c.GetHeader("Accept")
	header := func(h string) string {
		switch h {
		case "If-Match":
			return op.version
		case "Accept":
			return accept
		}
		return ""
	}
	a, err := f.sendWith(c, op.method, path, "", body, header)
	if err == nil {
		err = statusError(a)
	}
	if err != nil {
		return f.bulkError(c, op, err)
	}
	from, to := f.up.Base(), f.publicBase(c, prefix)
	var doc map[string]any
	if len(a.body) > 0 && isJSON(a.header.Get("Content-Type")) {
		doc, _ = decodeObject(a.body)
	}
	if a.status >= 300 {
		if doc == nil {
			return f.bulkError(c, op, scimerr.New(a.status, "", "the upstream SCIM service refused the request"))
		}
		rewriteLocations(doc, from, to) // as relay does: no upstream URL reaches the caller
		r := op.result()
		r["status"] = strconv.Itoa(a.status)
		r["response"] = doc
		return r
	}
	if doc == nil && a.status != http.StatusNoContent && len(a.body) > 0 {
		return f.bulkError(c, op, &upstreamError{http.StatusBadGateway, "the upstream SCIM service sent an answer that is not SCIM JSON", nil})
	}
	if doc != nil {
		rewriteLocations(doc, from, to)
	}
	if op.method == http.MethodPost {
		id, _ = doc["id"].(string)
		if id == "" {
			return f.bulkError(c, op, &upstreamError{http.StatusBadGateway, "the upstream SCIM service did not say which resource it created", nil})
		}
		ids[op.bulkID] = id
	}
	r := op.result()
	r["status"] = strconv.Itoa(a.status)
	meta, _ := doc["meta"].(map[string]any)
	loc := rewriteURL(a.header.Get("Location"), from, to)
	if loc == "" {
		loc, _ = meta["location"].(string)
	}
	if loc == "" && op.method != http.MethodDelete {
		loc = to + "/" + op.res + "/" + url.PathEscape(id)
	}
	if loc != "" {
		r["location"] = loc
	}
	version := a.header.Get("ETag")
	if version == "" {
		version, _ = meta["version"].(string)
	}
	if version != "" {
		r["version"] = version
	}
	if f.opts.Recorder != nil {
		f.record(c, op.rt, op.kind, id, op.data, doc)
	}
	return r
}
