// Package patch implements the SCIM PATCH operation engine (RFC 7644
// §3.5.2) over resources held as map[string]any.
package patch

import (
	"reflect"
	"strings"

	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// Compat rule names reported through Options.OnCompat in non-strict mode.
const (
	// CompatOpCase: an op name not in lower case ("Replace", "Add").
	CompatOpCase = "op_case"
	// CompatFilterUpsert: add/replace through a value filter that matched
	// nothing created a new element from the filter's eq comparisons.
	CompatFilterUpsert = "filter_upsert"
	// CompatRemoveByValue: remove on a multi-valued attribute without
	// filter but with a value list removed only the listed values (Entra
	// `{"op":"Remove","path":"members","value":[{"value":"id"}]}`).
	CompatRemoveByValue = "remove_members_by_value"
	// CompatStringBoolean: a boolean sent as a string was coerced.
	CompatStringBoolean = schema.CompatStringBoolean
)

// Operation is one PATCH operation as decoded from the request body.
type Operation struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// Options controls Apply.
type Options struct {
	// Strict applies RFC 7644 literally: op names must be lower case,
	// filters that match nothing are noTarget, remove without filter
	// removes the whole attribute and string booleans are invalidValue.
	Strict bool
	// OnCompat, if set, is called with the rule name of every tolerated
	// deviation from the RFC (see the Compat constants).
	OnCompat func(rule string)
	// Limits bounds the operation count and the paths (zero: defaults).
	Limits Limits
}

func (o Options) compat(rule string) {
	if o.OnCompat != nil {
		o.OnCompat(rule)
	}
}

// Result is the outcome of Apply.
type Result struct {
	// Doc is the patched, normalised document (a new map).
	Doc map[string]any
	// Changed is false when the operations left the document deep-equal to
	// the input, so the caller can keep meta.version.
	Changed bool
	// Touched lists the canonical names of changed top-level attributes,
	// extension attributes URN-qualified, in schema order.
	Touched []string
}

// Apply applies ops to doc atomically: on any error doc is untouched and
// only the error (a *scimerr.Error) is returned. doc must be a stored
// resource (canonical names, readOnly attributes present); the result is
// re-validated against the schema (types, required attributes, at most one
// primary value, immutability).
func Apply(rt *schema.ResourceType, doc map[string]any, ops []Operation, opts Options) (Result, error) {
	if err := opts.Limits.Check(ops); err != nil {
		return Result{}, err
	}
	if doc == nil {
		doc = map[string]any{}
	}
	e := engine{rt: rt, opts: opts, doc: deepCopy(doc).(map[string]any)}
	for i, op := range ops {
		if err := e.apply(op); err != nil {
			if se, ok := scimerr.As(err); ok {
				return Result{}, scimerr.New(se.Status, se.ScimType, "operation %d: %s", i, se.Detail)
			}
			return Result{}, err
		}
	}
	sopts := schema.Options{Strict: opts.Strict, OnCompat: opts.OnCompat, KeepReadOnly: true}
	out, err := schema.Normalize(rt, e.doc, sopts)
	if err != nil {
		return Result{}, err
	}
	before, err := schema.Normalize(rt, doc, schema.Options{KeepReadOnly: true})
	if err != nil {
		before = doc // a stored document that no longer validates: compare raw
	}
	if err := schema.ImmutableViolation(rt, before, out); err != nil {
		return Result{}, err
	}
	touched := touchedAttrs(rt, before, out)
	return Result{Doc: out, Changed: len(touched) > 0 || !reflect.DeepEqual(before, out), Touched: touched}, nil
}

// touchedAttrs lists the top-level attributes whose values differ.
func touchedAttrs(rt *schema.ResourceType, a, b map[string]any) []string {
	var out []string
	for _, at := range rt.Schema.Attributes {
		if !reflect.DeepEqual(a[at.Name], b[at.Name]) {
			out = append(out, at.Name)
		}
	}
	for _, ext := range rt.Extensions {
		ea, _ := a[ext.Schema.ID].(map[string]any)
		eb, _ := b[ext.Schema.ID].(map[string]any)
		for _, at := range ext.Schema.Attributes {
			if !reflect.DeepEqual(ea[at.Name], eb[at.Name]) {
				out = append(out, ext.Schema.ID+":"+at.Name)
			}
		}
	}
	return out
}

type engine struct {
	rt   *schema.ResourceType
	opts Options
	doc  map[string]any
}

// apply dispatches one operation.
func (e *engine) apply(op Operation) error {
	name := strings.ToLower(op.Op)
	if name != op.Op {
		// RFC 7644 §3.5.2: "op" is one of "add", "remove" or "replace";
		// JSON string values are case-sensitive, so strict mode rejects
		// other spellings while lenient mode accepts them (Entra sends
		// "Replace", "Add", "Remove").
		if e.opts.Strict {
			return scimerr.BadRequest(scimerr.InvalidSyntax, "op %q must be lower case", op.Op)
		}
		if name == "add" || name == "remove" || name == "replace" {
			e.opts.compat(CompatOpCase)
		}
	}
	switch name {
	case "add", "replace":
		if op.Path == "" {
			return e.pathless(name, op.Value)
		}
		t, err := ParsePath(e.rt, op.Path, e.opts.Limits)
		if err != nil {
			return err
		}
		return e.set(name, t, op.Value, true)
	case "remove":
		if op.Path == "" {
			return scimerr.BadRequest(scimerr.NoTarget, "remove requires a path")
		}
		t, err := ParsePath(e.rt, op.Path, e.opts.Limits)
		if err != nil {
			return err
		}
		return e.remove(t, op.Value)
	}
	return scimerr.BadRequest(scimerr.InvalidSyntax, "unknown op %q", op.Op)
}

// pathless applies add/replace whose value is an object of attributes
// (RFC 7644 §3.5.2.1, §3.5.2.3). Keys may be plain, dotted, URN-qualified or
// an extension URN holding an object. Unknown and readOnly attributes are
// ignored, as in resource creation (RFC 7643 §2.2).
func (e *engine) pathless(op string, value any) error {
	obj, ok := value.(map[string]any)
	if !ok {
		return scimerr.BadRequest(scimerr.InvalidSyntax, "%s without path requires an object value", op)
	}
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		if strings.EqualFold(k, "schemas") {
			continue
		}
		if s, ext := e.rt.SchemaByURN(k); s != nil {
			if err := e.schemaObject(op, s, ext, k, v); err != nil {
				return err
			}
			continue
		}
		ref, err := e.rt.Resolve(k)
		if err != nil {
			continue
		}
		if readOnly(ref) {
			continue
		}
		if err := e.set(op, &Path{Ref: ref}, v, false); err != nil {
			return err
		}
	}
	return nil
}

// schemaObject applies an object given for a whole schema URN.
func (e *engine) schemaObject(op string, s *schema.Schema, ext bool, key string, v any) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return scimerr.BadRequest(scimerr.InvalidValue, "%q must be an object", key)
	}
	for _, k := range sortedKeys(obj) {
		a := s.Attribute(k)
		if a == nil {
			continue
		}
		ref := schema.AttrRef{Schema: s, Extension: ext, Attr: a}
		if readOnly(ref) {
			continue
		}
		if err := e.set(op, &Path{Ref: ref}, obj[k], false); err != nil {
			return err
		}
	}
	return nil
}

func readOnly(ref schema.AttrRef) bool {
	return ref.Attr.Mutability == schema.ReadOnly || ref.Sub != nil && ref.Sub.Mutability == schema.ReadOnly
}
