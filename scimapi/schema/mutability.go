package schema

import (
	"reflect"

	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// ImmutableViolation reports an attempt to change an immutable attribute
// that already has a value (RFC 7643 §2.2, RFC 7644 §3.5.1) as a 400
// mutability error. Only single-valued top-level attributes (core and
// extension) are checked: sub-attributes of multi-valued attributes such as
// Group members.value are immutable per element, while elements may still be
// added and removed. An attribute absent from next is not a change (PUT
// callers carry stored values forward).
func ImmutableViolation(rt *ResourceType, old, next map[string]any) error {
	check := func(attrs []*Attribute, o, n map[string]any, prefix string) error {
		for _, a := range attrs {
			if a.Mutability != Immutable || a.MultiValued {
				continue
			}
			ov, _ := Lookup(o, a.Name)
			nv, present := Lookup(n, a.Name)
			if ov == nil || !present || nv == nil {
				continue
			}
			if !reflect.DeepEqual(ov, nv) {
				return scimerr.BadRequest(scimerr.Mutability, "attribute %q is immutable", prefix+a.Name)
			}
		}
		return nil
	}
	if err := check(rt.Schema.Attributes, old, next, ""); err != nil {
		return err
	}
	for _, e := range rt.Extensions {
		ov, _ := Lookup(old, e.Schema.ID)
		nv, _ := Lookup(next, e.Schema.ID)
		om, _ := ov.(map[string]any)
		nm, _ := nv.(map[string]any)
		if om == nil || nm == nil {
			continue
		}
		if err := check(e.Schema.Attributes, om, nm, e.Schema.ID+":"); err != nil {
			return err
		}
	}
	return nil
}
