package scimapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// serviceProviderConfig describes exactly what this server implements
// (RFC 7643 §5; cursor pagination per RFC 9865 §4).
func (h *Handler) serviceProviderConfig(c *gin.Context, req *request) {
	writeJSON(c, http.StatusOK, map[string]any{
		"schemas":          []string{SPConfigURN, LimitsURN},
		"documentationUri": "https://github.com/scimgate/scimgate#readme",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": true, "maxOperations": h.opts.BulkMaxOperations, "maxPayloadSize": h.opts.BulkMaxPayload},
		"filter":           map[string]any{"supported": true, "maxResults": h.opts.MaxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		"pagination": map[string]any{
			"cursor":                  true,
			"index":                   true,
			"defaultPaginationMethod": "index",
			"defaultPageSize":         h.opts.MaxResults,
			"maxPageSize":             h.opts.MaxResults,
		},
		"authenticationSchemes": []any{map[string]any{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "Authentication with a bearer token: a static system token (opst-…), an access token from scimgate's token endpoint, or a JWT from a trusted identity provider.",
			"specUri":     "https://www.rfc-editor.org/rfc/rfc6750",
			"primary":     true,
		}},
		LimitsURN: h.opts.Limits.advertise(),
		"meta":    map[string]any{"resourceType": "ServiceProviderConfig", "location": req.base + "/ServiceProviderConfig"},
	})
}

func listOf(items []any) map[string]any {
	return map[string]any{
		"schemas":      []string{ListResponseURN},
		"totalResults": len(items),
		"startIndex":   1,
		"itemsPerPage": len(items),
		"Resources":    items,
	}
}

func (h *Handler) schemas(c *gin.Context, req *request) {
	var items []any
	for _, s := range h.reg.Schemas() {
		items = append(items, s.Representation(req.base))
	}
	writeJSON(c, http.StatusOK, listOf(items))
}

func (h *Handler) schema(c *gin.Context, req *request) {
	s := h.reg.Schema(c.Param("urn"))
	if s == nil {
		writeError(c, h.opts.Log, scimerr.NotFound("no schema %q", c.Param("urn")))
		return
	}
	writeJSON(c, http.StatusOK, s.Representation(req.base))
}

func (h *Handler) resourceTypes(c *gin.Context, req *request) {
	var items []any
	for _, rt := range h.reg.ResourceTypes() {
		items = append(items, rt.Representation(req.base))
	}
	writeJSON(c, http.StatusOK, listOf(items))
}

func (h *Handler) resourceType(c *gin.Context, req *request) {
	for _, rt := range h.reg.ResourceTypes() {
		if strings.EqualFold(rt.Name, c.Param("name")) {
			writeJSON(c, http.StatusOK, rt.Representation(req.base))
			return
		}
	}
	writeError(c, h.opts.Log, scimerr.NotFound("no resource type %q", c.Param("name")))
}
