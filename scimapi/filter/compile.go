package filter

import (
	"encoding/json"
	"fmt"
	"strings"

	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// Filter is a filter compiled against a resource type; it is immutable and
// safe for concurrent use.
type Filter struct {
	rt   *schema.ResourceType
	root node
	refs map[string]bool // canonical top-level attributes the filter reads
	exts map[string]bool // schema ids of the extensions whose attributes it reads
}

// References reports whether the filter reads the top-level attribute
// with this canonical name (e.g. "members", "groups"), so a caller can skip
// loading derived attributes nobody filters on.
func (f *Filter) References(name string) bool { return f.refs[name] }

// ReadsExtension reports whether the filter reads an attribute of the
// schema extension urn (its id, compared case-insensitively as SCIM
// attribute names are), so a caller can skip decoding the others.
func (f *Filter) ReadsExtension(urn string) bool {
	for id := range f.exts {
		if strings.EqualFold(id, urn) {
			return true
		}
	}
	return false
}

// Compile parses s and binds it to rt. Unknown attributes and comparisons
// that can never succeed (gt on a boolean, co on a number, a non-dateTime
// literal for a dateTime attribute, …) are 400 invalidFilter. Compile
// applies the default Limits; Limits.Compile applies others.
func Compile(rt *schema.ResourceType, s string) (*Filter, error) {
	return Limits{}.Compile(rt, s)
}

// Compile binds a parsed filter to rt; see Compile.
func (p *Parsed) Compile(rt *schema.ResourceType) (*Filter, error) {
	return p.compile(rt, false)
}

func (p *Parsed) compile(rt *schema.ResourceType, lenient bool) (*Filter, error) {
	c := compiler{rt: rt, suffixes: p.suffixes, lenient: lenient}
	root, err := c.expr(p.Expr, nil)
	if err != nil {
		return nil, err
	}
	return &Filter{rt: rt, root: root, refs: c.refs, exts: c.exts}, nil
}

// CompileLenient is Compile for searches across resource types (RFC 7644
// §3.4.3 root search): an attribute that rt does not define compares as an
// absent attribute (it matches nothing) instead of failing; syntax errors and
// impossible comparisons on known attributes still fail. It applies the
// default Limits; Limits.CompileLenient applies others.
func CompileLenient(rt *schema.ResourceType, s string) (*Filter, error) {
	return Limits{}.CompileLenient(rt, s)
}

// CompileExpr compiles an already parsed expression relative to the
// elements of the complex attribute parent (nil for the resource itself).
// The patch package uses it for value-path filters.
func CompileExpr(rt *schema.ResourceType, e fp.Expression, parent *schema.AttrRef) (*Filter, error) {
	c := compiler{rt: rt}
	root, err := c.expr(e, parent)
	if err != nil {
		return nil, err
	}
	return &Filter{rt: rt, root: root, refs: c.refs, exts: c.exts}, nil
}

type compiler struct {
	rt       *schema.ResourceType
	lenient  bool // unknown attributes match nothing instead of failing
	suffixes []*fp.AttributeExpression
	nvp      int             // value paths seen so far
	refs     map[string]bool // top-level attributes read
	exts     map[string]bool // schema ids of the extensions read
}

// read records that the filter reads ref's top-level attribute.
func (c *compiler) read(ref schema.AttrRef) {
	if c.refs == nil {
		c.refs = map[string]bool{}
	}
	c.refs[ref.TopName()] = true
	if ref.Extension {
		if c.exts == nil {
			c.exts = map[string]bool{}
		}
		c.exts[ref.Schema.ID] = true
	}
}

// schemasAttr describes the "schemas" attribute common to all resources.
func schemasAttr() *schema.Attribute {
	return &schema.Attribute{Name: "schemas", Type: schema.TypeReference, MultiValued: true,
		CaseExact: false, Mutability: schema.ReadWrite, Returned: schema.ReturnedAlways}
}

func invalid(format string, args ...any) error {
	return scimerr.BadRequest(scimerr.InvalidFilter, format, args...)
}

// expr compiles e; parent is non-nil inside a value path, where attribute
// names denote sub-attributes of parent.
func (c *compiler) expr(e fp.Expression, parent *schema.AttrRef) (node, error) {
	switch e := e.(type) {
	case *fp.LogicalExpression:
		l, err := c.expr(e.Left, parent)
		if err != nil {
			return nil, err
		}
		r, err := c.expr(e.Right, parent)
		if err != nil {
			return nil, err
		}
		if e.Operator == fp.OR {
			return &orNode{l, r}, nil
		}
		return &andNode{l, r}, nil
	case *fp.NotExpression:
		n, err := c.expr(e.Expression, parent)
		if err != nil {
			return nil, err
		}
		return &notNode{n}, nil
	case *fp.AttributeExpression:
		return c.attrExp(e, parent)
	case *fp.ValuePath:
		return c.valuePath(e, parent)
	}
	return nil, invalid("unsupported filter expression %T", e)
}

func (c *compiler) valuePath(e *fp.ValuePath, parent *schema.AttrRef) (node, error) {
	idx := c.nvp
	c.nvp++
	if parent != nil {
		return nil, invalid("nested value path %v", e.AttributePath)
	}
	ap := e.AttributePath
	if ap.SubAttribute != nil {
		return nil, invalid("value path %v must name a complex attribute", ap)
	}
	ref, err := c.rt.ResolveParts(ap.URI(), ap.AttributeName, "")
	if err != nil {
		if c.lenient {
			return absentNode{}, nil
		}
		return nil, invalid("invalid filter: %v", err)
	}
	if ref.Attr.Type != schema.TypeComplex {
		return nil, invalid("value path %q requires a complex attribute", ref.FullPath())
	}
	inner, err := c.expr(e.ValueFilter, &ref)
	if err != nil {
		return nil, err
	}
	if idx < len(c.suffixes) && c.suffixes[idx] != nil {
		sfx, err := c.attrExp(c.suffixes[idx], &ref)
		if err != nil {
			return nil, err
		}
		inner = &andNode{inner, sfx}
	}
	c.read(ref)
	return &valuePathNode{acc: newAccessor(ref, false), inner: inner}, nil
}

func (c *compiler) attrExp(e *fp.AttributeExpression, parent *schema.AttrRef) (node, error) {
	ap := e.AttributePath
	var ref schema.AttrRef
	if parent != nil {
		if ap.URIPrefix != nil || ap.SubAttribute != nil {
			return nil, invalid("invalid attribute %v in value filter of %q", ap, parent.FullPath())
		}
		sub := parent.Attr.SubAttribute(ap.AttributeName)
		if sub == nil {
			return nil, invalid("unknown sub-attribute %q of %q", ap.AttributeName, parent.FullPath())
		}
		ref = *parent
		ref.Sub = sub
	} else if ap.URIPrefix == nil && ap.SubAttribute == nil && strings.EqualFold(ap.AttributeName, "schemas") {
		// "schemas" is defined by RFC 7643 §3 for every resource but is not
		// part of any schema (RFC 7644 §3.4.2.2 filters on it).
		ref = schema.AttrRef{Schema: c.rt.Schema, Attr: schemasAttr()}
	} else {
		var err error
		if ref, err = c.rt.ResolveParts(ap.URI(), ap.AttributeName, ap.SubAttributeName()); err != nil {
			if c.lenient {
				return absentNode{}, nil
			}
			return nil, invalid("invalid filter: %v", err)
		}
	}
	c.read(ref)
	acc := newAccessor(ref, parent != nil)
	target := ref.Target()
	op := fp.CompareOperator(strings.ToLower(string(e.Operator)))
	if op == fp.PR {
		return &presentNode{acc: acc}, nil
	}
	if ref.Sub == nil && ref.Attr.Type == schema.TypeComplex {
		// RFC 7644 §3.4.2.2: a multi-valued complex attribute without
		// sub-attribute compares its "value" sub-attribute.
		v := ref.Attr.SubAttribute("value")
		if !ref.Attr.MultiValued || v == nil {
			return nil, invalid("attribute %q is complex; name a sub-attribute", ref.FullPath())
		}
		target = v
		acc.sub, acc.multi = v.Name, true
	}
	cmp := &cmpNode{acc: acc, op: op, attr: target}
	if err := cmp.setLiteral(e.CompareValue, ref.FullPath()); err != nil {
		return nil, err
	}
	if op == fp.NE {
		cmp.op = fp.EQ
		return &notNode{cmp}, nil
	}
	return cmp, nil
}

// setLiteral type-checks the comparison literal against the attribute.
func (n *cmpNode) setLiteral(v any, name string) error {
	t := n.attr.Type
	ordering := n.op == fp.GT || n.op == fp.GE || n.op == fp.LT || n.op == fp.LE
	substr := n.op == fp.CO || n.op == fp.SW || n.op == fp.EW
	switch n.op {
	case fp.EQ, fp.NE, fp.CO, fp.SW, fp.EW, fp.GT, fp.GE, fp.LT, fp.LE:
	default:
		return invalid("unknown operator %q", n.op)
	}
	if (t == schema.TypeBoolean || t == schema.TypeBinary) && (ordering || substr && t == schema.TypeBoolean) {
		return invalid("operator %q is not supported for %s attribute %q", n.op, t, name)
	}
	if (t == schema.TypeInteger || t == schema.TypeDecimal) && substr {
		return invalid("operator %q is not supported for %s attribute %q", n.op, t, name)
	}
	switch x := v.(type) {
	case nil:
		if n.op != fp.EQ && n.op != fp.NE {
			return invalid("null can only be compared with eq or ne (%q)", name)
		}
		n.kind = litNull
		return nil
	case bool:
		if t != schema.TypeBoolean {
			return invalid("attribute %q is %s, not boolean", name, t)
		}
		n.kind, n.b = litBool, x
		return nil
	case int:
		n.kind, n.f = litNum, float64(x)
	case float64:
		n.kind, n.f = litNum, x
	case string:
		s, err := unescape(x)
		if err != nil {
			return invalid("invalid string literal for %q: %v", name, err)
		}
		n.kind, n.s, n.orig = litString, s, s
		n.fold = !n.attr.CaseExact
		if n.fold {
			n.s = strings.ToLower(s)
		}
		if t == schema.TypeDateTime && !substr {
			tm, err := schema.ParseDateTime(s)
			if err != nil {
				return invalid("attribute %q: %q is not an RFC 3339 dateTime", name, s)
			}
			n.kind, n.t = litTime, tm
		}
	default:
		return invalid("unsupported literal %v", v)
	}
	switch t {
	case schema.TypeInteger, schema.TypeDecimal:
		if n.kind != litNum {
			return invalid("attribute %q is %s; compare with a number", name, t)
		}
	case schema.TypeBoolean:
		return invalid("attribute %q is boolean; compare with true or false", name)
	default:
		if n.kind == litNum {
			return invalid("attribute %q is %s; compare with a string", name, t)
		}
	}
	return nil
}

// unescape decodes JSON string escapes left in by the parser.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var out string
	if err := json.Unmarshal([]byte(`"`+s+`"`), &out); err != nil {
		return "", fmt.Errorf("bad escape: %w", err)
	}
	return out, nil
}
