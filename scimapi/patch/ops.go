package patch

import (
	"reflect"

	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// The engine works on a private deep copy of the document, so the helpers
// below mutate maps and slices in place.

func (e *engine) sopts() schema.Options {
	return schema.Options{Strict: e.opts.Strict, OnCompat: e.opts.OnCompat}
}

// container returns the object holding ref's top-level attribute, creating
// the extension object when create is set.
func (e *engine) container(ref schema.AttrRef, create bool) map[string]any {
	if !ref.Extension {
		return e.doc
	}
	m, _ := e.doc[ref.Schema.ID].(map[string]any)
	if m == nil && create {
		m = map[string]any{}
		e.doc[ref.Schema.ID] = m
	}
	return m
}

func mutability(format string, args ...any) error {
	return scimerr.BadRequest(scimerr.Mutability, format, args...)
}

// set implements add and replace (RFC 7644 §3.5.2.1, §3.5.2.3). explicit is
// true when the client named the path (readOnly targets are then an error).
func (e *engine) set(op string, t *Path, value any, explicit bool) error {
	if t.Extension != nil {
		if value == nil && op == "replace" {
			delete(e.doc, t.Extension.ID)
			return nil
		}
		return e.schemaObject(op, t.Extension, true, t.Extension.ID, value)
	}
	ref := t.Ref
	if explicit && readOnly(ref) {
		return mutability("attribute %q is readOnly", ref.FullPath())
	}
	if t.Filter != nil {
		return e.setFiltered(op, t, value)
	}
	c := e.container(ref, true)
	a, name := ref.Attr, ref.FullPath()
	if ref.Sub != nil {
		if a.MultiValued {
			return scimerr.BadRequest(scimerr.InvalidPath, "%q: use a value filter to select elements of %q", name, a.Name)
		}
		nv, err := schema.NormalizeValue(ref.Sub, name, value, e.sopts())
		if err != nil {
			return err
		}
		m, _ := c[a.Name].(map[string]any)
		if m == nil {
			m = map[string]any{}
			c[a.Name] = m
		}
		if nv == nil {
			delete(m, ref.Sub.Name)
		} else {
			m[ref.Sub.Name] = nv
		}
		return nil
	}
	nv, err := schema.NormalizeValue(a, name, value, e.sopts())
	if err != nil {
		return err
	}
	switch {
	case nv == nil:
		if op == "replace" {
			delete(c, a.Name) // replacing with null or [] clears the attribute
		}
	case a.MultiValued && op == "replace":
		c[a.Name] = nv
	case a.MultiValued:
		c[a.Name] = mergeMulti(c[a.Name], nv.([]any))
	case a.Type == schema.TypeComplex:
		// Both add and replace merge sub-attributes into a complex value;
		// unspecified sub-attributes are left unchanged (§3.5.2.3).
		m, _ := c[a.Name].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		for k, v := range nv.(map[string]any) {
			m[k] = v
		}
		c[a.Name] = m
	default:
		c[a.Name] = nv
	}
	return nil
}

// setFiltered handles add/replace through a value filter.
func (e *engine) setFiltered(op string, t *Path, value any) error {
	ref := t.Ref
	a, name := ref.Attr, ref.FullPath()
	c := e.container(ref, true)
	arr, _ := c[a.Name].([]any)
	matched := match(t, arr)
	upsert := false
	if len(matched) == 0 {
		// RFC 7644 §3.5.2.3: a filter matching nothing is noTarget. Entra
		// instead expects the element to be created from the filter.
		elem, ok := upsertElement(t.Expr, a)
		if e.opts.Strict || !ok {
			return scimerr.BadRequest(scimerr.NoTarget, "no value of %q matches the filter", a.Name)
		}
		e.opts.compat(CompatFilterUpsert)
		matched, arr, upsert = []int{len(arr)}, append(arr, elem), true
	}
	for _, i := range matched {
		m := arr[i].(map[string]any)
		if ref.Sub != nil {
			nv, err := schema.NormalizeValue(ref.Sub, name, value, e.sopts())
			if err != nil {
				return err
			}
			if old, ok := m[ref.Sub.Name]; ok && ref.Sub.Mutability == schema.Immutable && !reflect.DeepEqual(old, nv) {
				return mutability("sub-attribute %q is immutable", name)
			}
			if nv == nil {
				delete(m, ref.Sub.Name)
			} else {
				m[ref.Sub.Name] = nv
			}
		} else {
			nv, err := schema.NormalizeElement(a, name, value, e.sopts())
			if err != nil {
				return err
			}
			nm, ok := nv.(map[string]any)
			if !ok {
				return scimerr.BadRequest(scimerr.InvalidValue, "%q: value must be an object", name)
			}
			if op == "replace" && !upsert {
				if err := immutableSubs(a, m, nm, name); err != nil {
					return err
				}
				m = map[string]any{}
			}
			for k, v := range nm {
				m[k] = v
			}
			arr[i] = m
		}
		if m["primary"] == true {
			demotePrimaries(arr, i)
		}
	}
	c[a.Name] = arr
	return nil
}

// immutableSubs rejects a replacement element that changes an immutable
// sub-attribute (e.g. Group members.value) of an existing element.
func immutableSubs(a *schema.Attribute, old, repl map[string]any, name string) error {
	for _, s := range a.SubAttributes {
		if s.Mutability != schema.Immutable {
			continue
		}
		if ov, ok := old[s.Name]; ok && !reflect.DeepEqual(ov, repl[s.Name]) {
			return mutability("sub-attribute %q is immutable", name+"."+s.Name)
		}
	}
	return nil
}

// remove implements RFC 7644 §3.5.2.2.
func (e *engine) remove(t *Path, value any) error {
	if t.Extension != nil {
		delete(e.doc, t.Extension.ID)
		return nil
	}
	ref := t.Ref
	a, name := ref.Attr, ref.FullPath()
	if readOnly(ref) {
		return mutability("attribute %q is readOnly", name)
	}
	c := e.container(ref, false)
	var cur any
	if c != nil {
		cur = c[a.Name]
	}
	if t.Filter != nil {
		arr, _ := cur.([]any)
		matched := match(t, arr)
		if len(matched) == 0 {
			return scimerr.BadRequest(scimerr.NoTarget, "no value of %q matches the filter", a.Name)
		}
		if ref.Sub == nil {
			c[a.Name] = without(arr, matched)
			return nil
		}
		for _, i := range matched {
			m := arr[i].(map[string]any)
			if _, ok := m[ref.Sub.Name]; ok && ref.Sub.Mutability == schema.Immutable {
				return mutability("sub-attribute %q is immutable", name)
			}
			delete(m, ref.Sub.Name)
		}
		return nil
	}
	if cur == nil {
		return nil // removing an absent attribute is a no-op
	}
	if ref.Sub != nil {
		if ref.Sub.Mutability == schema.Immutable {
			return mutability("sub-attribute %q is immutable", name)
		}
		switch v := cur.(type) {
		case map[string]any:
			delete(v, ref.Sub.Name)
		case []any:
			for _, el := range v {
				if m, ok := el.(map[string]any); ok {
					delete(m, ref.Sub.Name)
				}
			}
		}
		return nil
	}
	if a.Mutability == schema.Immutable {
		return mutability("attribute %q is immutable", name)
	}
	if a.MultiValued && value != nil && !e.opts.Strict {
		// Entra removes members with {"op":"Remove","path":"members",
		// "value":[{"value":"id"}]}; RFC 7644 §3.5.2.2 would remove them
		// all. Remove only the listed values.
		nv, err := schema.NormalizeValue(a, name, value, e.sopts())
		if err != nil {
			return err
		}
		e.opts.compat(CompatRemoveByValue)
		arr, _ := cur.([]any)
		var drop []int
		for i, el := range arr {
			for _, rv := range asSlice(nv) {
				if sameElement(el, rv) {
					drop = append(drop, i)
					break
				}
			}
		}
		c[a.Name] = without(arr, drop)
		return nil
	}
	delete(c, a.Name)
	return nil
}

// match returns the indices of the elements selected by t.Filter.
func match(t *Path, arr []any) []int {
	var out []int
	for i, el := range arr {
		if m, ok := el.(map[string]any); ok && t.Filter.Match(m) {
			out = append(out, i)
		}
	}
	return out
}

// mergeMulti adds values to a multi-valued attribute; a value equal to an
// existing one, or a complex value with the same "value" sub-attribute, is
// merged into it instead of duplicated.
func mergeMulti(existing any, add []any) []any {
	arr, _ := existing.([]any)
	for _, nv := range add {
		idx := -1
		for i, ev := range arr {
			if sameElement(ev, nv) {
				idx = i
				break
			}
		}
		if idx < 0 {
			arr = append(arr, nv)
			idx = len(arr) - 1
		} else if em, ok := arr[idx].(map[string]any); ok {
			for k, v := range nv.(map[string]any) {
				em[k] = v
			}
		}
		if m, ok := arr[idx].(map[string]any); ok && m["primary"] == true {
			demotePrimaries(arr, idx)
		}
	}
	return arr
}

// sameElement reports whether two elements are deep-equal or are complex
// values with equal, non-null "value" sub-attributes.
func sameElement(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	am, ok1 := a.(map[string]any)
	bm, ok2 := b.(map[string]any)
	if !ok1 || !ok2 || am["value"] == nil {
		return false
	}
	return reflect.DeepEqual(am["value"], bm["value"])
}

// demotePrimaries sets primary=false on every element but keep
// (RFC 7644 §3.5.2: at most one primary value).
func demotePrimaries(arr []any, keep int) {
	for i, el := range arr {
		if m, ok := el.(map[string]any); ok && i != keep && m["primary"] == true {
			m["primary"] = false
		}
	}
}

// without returns arr minus the given (ascending) indices.
func without(arr []any, drop []int) []any {
	out := make([]any, 0, len(arr))
	j := 0
	for i, el := range arr {
		if j < len(drop) && drop[j] == i {
			j++
			continue
		}
		out = append(out, el)
	}
	return out
}

func asSlice(v any) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	return []any{v}
}
