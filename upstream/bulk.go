package upstream

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// bulk forwards POST /Bulk (RFC 7644 §3.7) when the upstream advertises
// bulk support, after checking scimgate's limits and the caller's scopes
// for every operation and charging the rate limit once per operation;
// otherwise it expands the request into single forwarded requests
// (expandBulk).
func (f *Forwarder) bulk(c *gin.Context, prefix string) {
	raw, err := f.readBody(c, f.opts.BulkMaxPayload)
	if err != nil {
		f.fail(c, err)
		return
	}
	doc, err := decodeObject(raw)
	if err != nil {
		f.fail(c, err)
		return
	}
	ops, ok := doc["Operations"].([]any)
	if !ok {
		f.fail(c, scimerr.BadRequest(scimerr.InvalidSyntax, "the bulk request has no Operations array"))
		return
	}
	if len(ops) > f.opts.BulkMaxOperations {
		f.fail(c, scimerr.New(http.StatusRequestEntityTooLarge, "", "the bulk request has %d operations; maxOperations is %d", len(ops), f.opts.BulkMaxOperations))
		return
	}
	p, _ := auth.FromContext(c.Request.Context())
	kinds := make([]writeKind, len(ops))
	types := make([]string, len(ops))
	for i, o := range ops {
		op, _ := o.(map[string]any)
		method, _ := op["method"].(string)
		path, _ := op["path"].(string)
		res, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		if res != "Users" && res != "Groups" {
			f.fail(c, scimerr.BadRequest(scimerr.InvalidValue, "operation %d: path must name /Users or /Groups", i+1))
			return
		}
		if ok, needed := auth.Allows(p.Scopes, auth.Operation{Resource: res, Write: true}); !ok {
			f.fail(c, scimerr.New(http.StatusForbidden, "", "operation %d: the credential's scopes do not allow it; it needs %s", i+1, needed))
			return
		}
		types[i] = strings.TrimSuffix(res, "s")
		switch strings.ToUpper(method) {
		case http.MethodPost:
			kinds[i] = kindCreate
		case http.MethodPut:
			kinds[i] = kindReplace
		case http.MethodPatch:
			kinds[i] = kindPatch
		case http.MethodDelete:
			kinds[i] = kindDelete
		default:
			f.fail(c, scimerr.BadRequest(scimerr.InvalidValue, "operation %d: method must be POST, PUT, PATCH or DELETE", i+1))
			return
		}
	}
	supported, err := f.bulkSupported(c)
	if err != nil {
		f.fail(c, err)
		return
	}
	var expanded []*bulkOp
	failLimit := 0
	if !supported {
		// Checked before the charge and before any operation is sent, so
		// a refused bulk changes nothing.
		if expanded, err = parseExpanded(ops, kinds, types); err == nil {
			failLimit, err = failOnErrors(doc)
		}
		if err != nil {
			f.fail(c, err)
			return
		}
	}
	if f.opts.ChargeExtra != nil && len(ops) > 1 && !f.opts.ChargeExtra(c, len(ops)-1) {
		return
	}
	if !supported {
		f.expandBulk(c, prefix, expanded, failLimit)
		return
	}
	changed := false
	for i, o := range ops {
		op, _ := o.(map[string]any)
		if data, ok := op["data"].(map[string]any); ok && !f.opts.Strict && f.normalize(data, types[i], kinds[i] == kindPatch) {
			changed = true
		}
	}
	if changed {
		raw, _ = encodeJSON(doc)
	}
	a, err := f.send(c, http.MethodPost, "/Bulk", "", raw)
	if err != nil {
		f.fail(c, err)
		return
	}
	out := f.relay(c, prefix, a)
	if out == nil || a.status != http.StatusOK || f.opts.Recorder == nil {
		return
	}
	results, _ := out["Operations"].([]any)
	for i, r := range results {
		if i >= len(ops) {
			break
		}
		res, _ := r.(map[string]any)
		status, _ := res["status"].(string)
		if !strings.HasPrefix(status, "2") {
			continue
		}
		op, _ := ops[i].(map[string]any)
		data, _ := op["data"].(map[string]any)
		loc, _ := res["location"].(string)
		id := loc[strings.LastIndex(loc, "/")+1:]
		f.record(c, types[i], kinds[i], id, data, nil)
	}
}
