package scimapi

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/patch"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// Default limits on request parameters (see Limits).
const (
	DefaultMaxAttributes      = 100
	DefaultMaxAttributeLength = 256
)

// LimitsURN is the schema of the ServiceProviderConfig extension that
// advertises Limits; RFC 7643 §5 has attributes for the bulk and page-size
// limits only.
const LimitsURN = "urn:scimgate:params:scim:schemas:extension:limits:2.0:ServiceProviderConfig"

// Limits bounds the parsing work one request may cause; each limit is
// checked before the work it bounds (filters and paths before the parser
// runs). A zero field takes its default.
type Limits struct {
	// Filter bounds filters of lists and searches.
	Filter filter.Limits
	// Patch bounds PATCH operation counts and paths; its Filter is set
	// from Filter above.
	Patch patch.Limits
	// MaxAttributes is the largest number of entries in attributes and
	// in excludedAttributes.
	MaxAttributes int
	// MaxAttributeLength is the longest entry of attributes or
	// excludedAttributes, and the longest sortBy, in bytes.
	MaxAttributeLength int
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	l.Filter = l.Filter.WithDefaults()
	l.Patch.Filter = l.Filter
	l.Patch = l.Patch.WithDefaults()
	if l.MaxAttributes <= 0 {
		l.MaxAttributes = DefaultMaxAttributes
	}
	if l.MaxAttributeLength <= 0 {
		l.MaxAttributeLength = DefaultMaxAttributeLength
	}
	return l
}

// advertise is the ServiceProviderConfig extension object listing l.
func (l Limits) advertise() map[string]any {
	return map[string]any{
		"filterMaxLength":    l.Filter.MaxLength,
		"filterMaxDepth":     l.Filter.MaxDepth,
		"filterMaxTerms":     l.Filter.MaxTerms,
		"patchMaxOperations": l.Patch.MaxOperations,
		"patchMaxPathLength": l.Patch.MaxPathLength,
		"attributesMaxCount": l.MaxAttributes,
		"attributeMaxLength": l.MaxAttributeLength,
	}
}

// checkParams enforces the limits on the attributes, excludedAttributes
// and sortBy of a request (query or search body): 400 invalidValue naming
// the limit (RFC 7644 §3.12 lists invalidValue for GET, POST and search;
// it defines no scimType for these parameters).
func (l Limits) checkParams(attributes, excluded []string, sortBy string) error {
	for _, p := range []struct {
		name string
		list []string
	}{{"attributes", attributes}, {"excludedAttributes", excluded}} {
		if len(p.list) > l.MaxAttributes {
			return scimerr.BadRequest(scimerr.InvalidValue, "%s has more than %d entries", p.name, l.MaxAttributes)
		}
		for _, a := range p.list {
			if err := l.checkAttrPath("an entry of "+p.name, a); err != nil {
				return err
			}
		}
	}
	if sortBy != "" {
		return l.checkAttrPath("sortBy", sortBy)
	}
	return nil
}

// checkAttrPath refuses a value that is longer than MaxAttributeLength or
// is not shaped like one attribute path (RFC 7644 §3.10: an optional schema
// URN, an attribute name and an optional sub-attribute; no spaces,
// brackets, quotes or commas).
func (l Limits) checkAttrPath(what, s string) error {
	if len(s) > l.MaxAttributeLength {
		return scimerr.BadRequest(scimerr.InvalidValue, "%s is longer than %d bytes", what, l.MaxAttributeLength)
	}
	for i := 0; i < len(s); i++ {
		if !isAttrPathChar(s[i]) {
			return scimerr.BadRequest(scimerr.InvalidValue, "%s is not an attribute path (character %d is not allowed)", what, i+1)
		}
	}
	return nil
}

func isAttrPathChar(c byte) bool {
	return c == '-' || c == '_' || c == '$' || c == ':' || c == '.' ||
		c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// checkQuery enforces checkParams on the query string of any SCIM request,
// before the handler does any work (so a write with a bad attributes
// parameter changes nothing).
func (h *Handler) checkQuery(c *gin.Context) error {
	if c.Request.URL.RawQuery == "" {
		return nil
	}
	lim := h.opts.Limits
	for _, name := range []string{"attributes", "excludedAttributes"} {
		// Count before splitting: the query may be as large as the
		// header limit allows.
		n := 0
		for a := range strings.SplitSeq(c.Query(name), ",") {
			if strings.TrimSpace(a) != "" {
				n++
			}
			if n > lim.MaxAttributes {
				return scimerr.BadRequest(scimerr.InvalidValue, "%s has more than %d entries", name, lim.MaxAttributes)
			}
		}
	}
	p := projectionOf(c)
	return lim.checkParams(p.attributes, p.excluded, c.Query("sortBy"))
}
