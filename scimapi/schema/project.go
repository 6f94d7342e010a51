package schema

// selection records which parts of one top-level attribute were named.
type selection struct {
	whole bool
	subs  map[*Attribute]bool
}

type projector struct {
	incl, excl map[*Attribute]*selection
	inclSchema map[*Schema]bool // whole extension schemas named by URN
	exclSchema map[*Schema]bool
	filtering  bool // attributes parameter given
}

// Project applies the "attributes" and "excludedAttributes" parameters and
// the returned characteristic (RFC 7644 §3.4.2.5, §3.9; RFC 7643 §7):
// returned "never" is always removed, "always" (and "schemas") always kept,
// "request" only when named in attributes, "default" unless excluded or
// attributes is given without naming it. Names may be sub-attributes,
// URN-qualified or a whole extension URN, in any case; unknown names are
// ignored. A new map is returned; doc is not modified.
func Project(rt *ResourceType, doc map[string]any, attributes, excludedAttributes []string) map[string]any {
	p := projector{
		incl:       map[*Attribute]*selection{},
		excl:       map[*Attribute]*selection{},
		inclSchema: map[*Schema]bool{},
		exclSchema: map[*Schema]bool{},
	}
	for _, n := range attributes {
		if p.add(rt, n, p.incl, p.inclSchema) {
			p.filtering = true
		}
	}
	for _, n := range excludedAttributes {
		p.add(rt, n, p.excl, p.exclSchema)
	}
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		if k == "schemas" {
			out[k] = v
			continue
		}
		if s, ext := rt.SchemaByURN(k); s != nil && ext {
			obj, ok := v.(map[string]any)
			if !ok {
				continue
			}
			if po := p.object(s, obj); len(po) > 0 {
				out[k] = po
			}
			continue
		}
		a := rt.Schema.Attribute(k)
		if a == nil {
			if !p.filtering {
				out[k] = v
			}
			continue
		}
		if pv, ok := p.attr(a, v, false, false); ok {
			out[k] = pv
		}
	}
	return out
}

// add records one attributes/excludedAttributes entry; false if unknown.
func (p *projector) add(rt *ResourceType, name string, sel map[*Attribute]*selection, schemas map[*Schema]bool) bool {
	if s, ext := rt.SchemaByURN(name); s != nil && ext {
		schemas[s] = true
		return true
	}
	ref, err := rt.Resolve(name)
	if err != nil {
		return false
	}
	e := sel[ref.Attr]
	if e == nil {
		e = &selection{}
		sel[ref.Attr] = e
	}
	if ref.Sub == nil {
		e.whole = true
	} else {
		if e.subs == nil {
			e.subs = map[*Attribute]bool{}
		}
		e.subs[ref.Sub] = true
	}
	return true
}

func (p *projector) object(s *Schema, obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		a := s.Attribute(k)
		if a == nil {
			if !p.filtering {
				out[k] = v
			}
			continue
		}
		if pv, ok := p.attr(a, v, p.inclSchema[s], p.exclSchema[s]); ok {
			out[k] = pv
		}
	}
	return out
}

// attr projects one top-level attribute value.
func (p *projector) attr(a *Attribute, v any, schemaIncl, schemaExcl bool) (any, bool) {
	switch a.Returned {
	case ReturnedNever:
		return nil, false
	case ReturnedAlways:
		return v, true
	}
	var keep func(*Attribute) bool
	if p.filtering {
		sel := p.incl[a]
		switch {
		case schemaIncl || (sel != nil && sel.whole):
		case sel != nil:
			keep = func(s *Attribute) bool { return sel.subs[s] || s.Returned == ReturnedAlways }
		default:
			return nil, false
		}
	} else if a.Returned == ReturnedRequest {
		return nil, false
	}
	if schemaExcl {
		return nil, false
	}
	if ex := p.excl[a]; ex != nil {
		if ex.whole {
			return nil, false
		}
		prev := keep
		keep = func(s *Attribute) bool {
			if s.Returned == ReturnedAlways {
				return true
			}
			return !ex.subs[s] && (prev == nil || prev(s))
		}
	}
	if a.Type != TypeComplex {
		return v, true
	}
	out := projectSubs(a, v, keep)
	return out, out != nil
}

// projectSubs filters the sub-attributes of a complex value (or of every
// element of a multi-valued one), dropping returned "never" sub-attributes.
func projectSubs(a *Attribute, v any, keep func(*Attribute) bool) any {
	one := func(e any) map[string]any {
		m, ok := e.(map[string]any)
		if !ok {
			return nil
		}
		out := make(map[string]any, len(m))
		for k, sv := range m {
			sa := a.SubAttribute(k)
			if sa != nil && (sa.Returned == ReturnedNever || (keep != nil && !keep(sa))) {
				continue
			}
			if sa == nil && keep != nil {
				continue
			}
			out[k] = sv
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	if arr, ok := v.([]any); ok {
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			if m := one(e); m != nil {
				out = append(out, m)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	if m := one(v); m != nil {
		return m
	}
	return nil
}
