package patch

import (
	"strings"

	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// Path is a resolved PATCH path (RFC 7644 §3.5.2 PATH grammar).
type Path struct {
	// Ref is the attribute and optional sub-attribute (the sub-attribute
	// after a value filter, as in `emails[type eq "work"].value`, included).
	Ref schema.AttrRef
	// Filter selects elements of the multi-valued Ref.Attr, or is nil.
	Filter *filter.Filter
	// Expr is the parsed value filter, or nil.
	Expr fp.Expression
	// Extension is set instead of Ref when the path is a whole extension
	// schema URN.
	Extension *schema.Schema
}

// ParsePath parses and resolves a PATCH path against rt. Syntax errors and
// unknown attributes are 400 invalidPath; a path over the limits lim is
// refused before it is parsed (see Limits).
func ParsePath(rt *schema.ResourceType, s string, lim Limits) (*Path, error) {
	if err := lim.checkPath(s); err != nil {
		return nil, err
	}
	if ext, isExt := rt.SchemaByURN(s); ext != nil && isExt {
		return &Path{Extension: ext}, nil
	}
	if uri, name, sub, ok := filter.SplitAttrPath(s); ok {
		ref, err := rt.ResolveParts(uri, name, sub)
		if err != nil {
			return nil, scimerr.BadRequest(scimerr.InvalidPath, "invalid path %q: %v", trunc(s), err)
		}
		return &Path{Ref: ref}, nil
	}
	p, err := fp.ParsePath([]byte(s))
	if err != nil {
		// The parser's own message names its grammar internals.
		return nil, scimerr.BadRequest(scimerr.InvalidPath, "invalid path %q: expected attribute, attribute.subAttribute or attribute[filter].subAttribute (RFC 7644 §3.5.2)", trunc(s))
	}
	ap := p.AttributePath
	if p.ValueExpression != nil && ap.SubAttribute != nil {
		return nil, scimerr.BadRequest(scimerr.InvalidPath, "invalid path %q", trunc(s))
	}
	sub := ap.SubAttributeName()
	if p.SubAttribute != nil {
		sub = *p.SubAttribute
	}
	ref, err := rt.ResolveParts(ap.URI(), ap.AttributeName, sub)
	if err != nil {
		return nil, scimerr.BadRequest(scimerr.InvalidPath, "invalid path %q: %v", trunc(s), err)
	}
	out := &Path{Ref: ref}
	if p.ValueExpression != nil {
		if !ref.Attr.MultiValued || ref.Attr.Type != schema.TypeComplex {
			return nil, scimerr.BadRequest(scimerr.InvalidPath, "invalid path %q: value filter on %q, which is not multi-valued complex", trunc(s), ref.Attr.Name)
		}
		top := ref
		top.Sub = nil
		f, err := filter.CompileExpr(rt, p.ValueExpression, &top)
		if err != nil {
			se, _ := scimerr.As(err)
			detail := err.Error()
			if se != nil {
				detail = se.Detail
			}
			return nil, scimerr.BadRequest(scimerr.InvalidPath, "invalid path %q: %s", trunc(s), detail)
		}
		out.Filter, out.Expr = f, p.ValueExpression
	}
	return out, nil
}

func (p *Path) String() string {
	if p.Extension != nil {
		return p.Extension.ID
	}
	return p.Ref.FullPath()
}

func trunc(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// upsertElement builds the element implied by a filter made only of "eq"
// comparisons joined by "and" (`type eq "work"`), or reports false.
func upsertElement(e fp.Expression, attr *schema.Attribute) (map[string]any, bool) {
	out := map[string]any{}
	var walk func(fp.Expression) bool
	walk = func(e fp.Expression) bool {
		switch e := e.(type) {
		case *fp.LogicalExpression:
			return e.Operator == fp.AND && walk(e.Left) && walk(e.Right)
		case *fp.AttributeExpression:
			if !strings.EqualFold(string(e.Operator), "eq") || e.CompareValue == nil {
				return false
			}
			sa := attr.SubAttribute(e.AttributePath.AttributeName)
			if sa == nil {
				return false
			}
			v := e.CompareValue
			if n, ok := v.(int); ok {
				v = float64(n)
			}
			if s, ok := v.(string); ok {
				v = unescape(s)
			}
			out[sa.Name] = v
			return true
		}
		return false
	}
	return out, walk(e) && len(out) > 0
}
