package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// CompatStringBoolean is the compat rule reported when a boolean sent as a
// string ("True", "false", …) is coerced in non-strict mode.
const CompatStringBoolean = "string_boolean"

// Options controls Normalize.
type Options struct {
	// Strict rejects non-RFC input instead of coercing it.
	Strict bool
	// OnCompat, if set, is called with the rule name of every coercion.
	OnCompat func(rule string)
	// KeepReadOnly keeps readOnly attributes (id, meta, groups, …) instead
	// of dropping them. Use it to re-validate a stored document, e.g. after
	// PATCH; client input for POST/PUT must leave it false.
	KeepReadOnly bool
}

func (o Options) compat(rule string) {
	if o.OnCompat != nil {
		o.OnCompat(rule)
	}
}

// Normalize validates and canonicalises a resource for POST/PUT. Attribute
// names get their canonical case, extension attributes are placed under
// their schema URN key, readOnly (unless opts.KeepReadOnly), unknown and
// null attributes are dropped, single values for multi-valued attributes are
// wrapped into arrays and "schemas" is recomputed. Violations are returned
// as *scimerr.Error with scimType invalidValue. in is never mutated.
func Normalize(rt *ResourceType, in map[string]any, opts Options) (map[string]any, error) {
	n := normalizer{opts: opts}
	out := make(map[string]any, len(in))
	var qualified []string
	for k, v := range in {
		switch {
		case strings.EqualFold(k, "schemas"):
			continue
		case hasURNPrefix(k):
			if s, ext := rt.SchemaByURN(k); s != nil {
				if err := n.schemaObject(out, s, ext, k, v); err != nil {
					return nil, err
				}
				continue
			}
			qualified = append(qualified, k) // URN-qualified attribute, handled below
		default:
			a := rt.Schema.Attribute(k)
			if a == nil {
				continue
			}
			if err := n.put(out, a, a.Name, v); err != nil {
				return nil, err
			}
		}
	}
	sort.Strings(qualified) // deterministic precedence
	for _, k := range qualified {
		ref, err := rt.Resolve(k)
		if err != nil {
			continue // unknown schema URNs and attributes are dropped
		}
		if err := n.putRef(out, ref, in[k]); err != nil {
			return nil, err
		}
	}
	if err := checkRequired(rt, out); err != nil {
		return nil, err
	}
	out["schemas"] = schemasOf(rt, out)
	return out, nil
}

// schemasOf returns the core URN plus every extension URN present in doc.
func schemasOf(rt *ResourceType, doc map[string]any) []any {
	s := []any{rt.Schema.ID}
	for _, e := range rt.Extensions {
		if _, ok := doc[e.Schema.ID]; ok {
			s = append(s, e.Schema.ID)
		}
	}
	return s
}

func checkRequired(rt *ResourceType, doc map[string]any) error {
	if err := requiredIn(rt.Schema.Attributes, doc, ""); err != nil {
		return err
	}
	for _, e := range rt.Extensions {
		ext, _ := doc[e.Schema.ID].(map[string]any)
		if ext == nil {
			if e.Required {
				return scimerr.BadRequest(scimerr.InvalidValue, "required schema extension %s is missing", e.Schema.ID)
			}
			continue
		}
		if err := requiredIn(e.Schema.Attributes, ext, e.Schema.ID+":"); err != nil {
			return err
		}
	}
	return nil
}

func requiredIn(attrs []*Attribute, m map[string]any, prefix string) error {
	for _, a := range attrs {
		if !a.Required || a.Mutability == ReadOnly {
			continue
		}
		if v, ok := m[a.Name]; !ok || v == nil || v == "" {
			return scimerr.BadRequest(scimerr.InvalidValue, "required attribute %q is missing", prefix+a.Name)
		}
	}
	return nil
}

type normalizer struct {
	opts Options
}

// schemaObject normalises the object stored under an extension (or core)
// schema URN key.
func (n normalizer) schemaObject(out map[string]any, s *Schema, ext bool, key string, v any) error {
	if v == nil {
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return scimerr.BadRequest(scimerr.InvalidValue, "%q must be an object", key)
	}
	target := out
	if ext {
		target, _ = out[s.ID].(map[string]any)
		if target == nil {
			target = make(map[string]any, len(obj))
		}
	}
	for k, sv := range obj {
		a := s.Attribute(k)
		if a == nil {
			continue
		}
		name := a.Name
		if ext {
			name = s.ID + ":" + a.Name
		}
		if err := n.put(target, a, name, sv); err != nil {
			return err
		}
	}
	if ext && len(target) > 0 {
		out[s.ID] = target
	}
	return nil
}

// putRef stores a URN-qualified attribute (possibly with sub-attribute).
func (n normalizer) putRef(out map[string]any, ref AttrRef, v any) error {
	c := out
	if ref.Extension {
		c, _ = out[ref.Schema.ID].(map[string]any)
		if c == nil {
			c = map[string]any{}
		}
	}
	if ref.Sub == nil {
		if err := n.put(c, ref.Attr, ref.FullPath(), v); err != nil {
			return err
		}
	} else {
		if ref.Attr.MultiValued {
			return scimerr.BadRequest(scimerr.InvalidValue, "%q: sub-attribute of a multi-valued attribute cannot be set directly", ref.FullPath())
		}
		parent, _ := c[ref.Attr.Name].(map[string]any)
		np := make(map[string]any, len(parent)+1)
		for k, pv := range parent {
			np[k] = pv
		}
		if err := n.put(np, ref.Sub, ref.FullPath(), v); err != nil {
			return err
		}
		if len(np) > 0 {
			c[ref.Attr.Name] = np
		}
	}
	if ref.Extension && len(c) > 0 {
		out[ref.Schema.ID] = c
	}
	return nil
}

// put normalises v for attribute a and stores it in m under a.Name; null,
// empty and readOnly values are left out.
func (n normalizer) put(m map[string]any, a *Attribute, path string, v any) error {
	if a.Mutability == ReadOnly && !n.opts.KeepReadOnly {
		return nil
	}
	nv, err := n.value(a, path, v)
	if err != nil {
		return err
	}
	if nv == nil {
		delete(m, a.Name)
		return nil
	}
	m[a.Name] = nv
	return nil
}

// value normalises a (possibly multi-valued) attribute value; it returns nil
// for "no value".
func (n normalizer) value(a *Attribute, path string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if !a.MultiValued {
		if _, isArr := v.([]any); isArr {
			return nil, scimerr.BadRequest(scimerr.InvalidValue, "attribute %q is single-valued but got an array", path)
		}
		return n.single(a, path, v)
	}
	arr, ok := v.([]any)
	if !ok {
		arr = []any{v}
	}
	out := make([]any, 0, len(arr))
	primaries := 0
	for _, e := range arr {
		ne, err := n.single(a, path, e)
		if err != nil {
			return nil, err
		}
		if ne == nil {
			continue
		}
		if m, ok := ne.(map[string]any); ok && m["primary"] == true {
			primaries++
		}
		out = append(out, ne)
	}
	if primaries > 1 {
		return nil, scimerr.BadRequest(scimerr.InvalidValue, "attribute %q has more than one primary value", path)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// single normalises one value of attribute a.
func (n normalizer) single(a *Attribute, path string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case TypeString, TypeReference, TypeBinary:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case TypeDateTime:
		if s, ok := v.(string); ok {
			if _, err := ParseDateTime(s); err != nil {
				return nil, scimerr.BadRequest(scimerr.InvalidValue, "attribute %q: %q is not an RFC 3339 dateTime", path, s)
			}
			return s, nil
		}
	case TypeBoolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			if bv, ok := n.stringBool(b); ok {
				return bv, nil
			}
		}
	case TypeInteger, TypeDecimal:
		if f, ok := ToFloat(v); ok {
			if a.Type == TypeInteger && (f != math.Trunc(f) || math.IsInf(f, 0)) {
				return nil, scimerr.BadRequest(scimerr.InvalidValue, "attribute %q: %v is not an integer", path, f)
			}
			return f, nil
		}
	case TypeComplex:
		if m, ok := v.(map[string]any); ok {
			return n.complex(a, path, m)
		}
	}
	return nil, scimerr.BadRequest(scimerr.InvalidValue, "attribute %q: expected %s, got %s", path, a.Type, jsonType(v))
}

// stringBool coerces "true"/"false" in any case when not strict.
func (n normalizer) stringBool(s string) (bool, bool) {
	if n.opts.Strict {
		return false, false
	}
	var b bool
	switch {
	case strings.EqualFold(s, "true"):
		b = true
	case strings.EqualFold(s, "false"):
	default:
		return false, false
	}
	n.opts.compat(CompatStringBoolean)
	return b, true
}

func (n normalizer) complex(a *Attribute, path string, m map[string]any) (any, error) {
	out := make(map[string]any, len(m))
	for k, sv := range m {
		sa := a.SubAttribute(k)
		if sa == nil {
			continue
		}
		if err := n.put(out, sa, path+"."+sa.Name, sv); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	if err := requiredIn(a.SubAttributes, out, path+"."); err != nil {
		return nil, err
	}
	return out, nil
}

// ToFloat reads a JSON number as decoded by encoding/json (float64 or
// json.Number) or a Go integer; NaN is not a number here.
func ToFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x)
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64, float32, int, int64, json.Number:
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// NormalizeValue validates and canonicalises a value for attribute a as
// Normalize does (wrapping single values of multi-valued attributes into an
// array); nil means "no value". path names the attribute in errors.
func NormalizeValue(a *Attribute, path string, v any, opts Options) (any, error) {
	return normalizer{opts: opts}.value(a, path, v)
}

// NormalizeElement validates and canonicalises one value of attribute a,
// i.e. one element when a is multi-valued; nil means "no value".
func NormalizeElement(a *Attribute, path string, v any, opts Options) (any, error) {
	if _, isArr := v.([]any); isArr {
		return nil, scimerr.BadRequest(scimerr.InvalidValue, "attribute %q: expected a single value, got an array", path)
	}
	return normalizer{opts: opts}.single(a, path, v)
}
