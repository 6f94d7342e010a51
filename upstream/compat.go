package upstream

import (
	"maps"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/scimapi/patch"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

// Compatibility rules of the forwarder only, counted through OnCompat as
// the shared rules are (see scimapi/patch's Compat constants).
const (
	// CompatDottedKey: a path-less PATCH value named a sub-attribute or a
	// URN-qualified attribute as a key (Entra:
	// {"op":"Replace","value":{"name.givenName":"x"}}); it is sent as an
	// operation with that path.
	CompatDottedKey = "pathless_dotted_key"
	// CompatBareMember: a group member sent as a bare id string
	// ("members":["id"], or a PATCH value "id") is sent as {"value":"id"}.
	CompatBareMember = "bare_string_member"
)

// normalize applies the IdP compatibility rules that upstream SCIM servers
// most often refuse, in place, counting each through OnCompat (same rule
// names as the stored backend where it has the rule): PATCH op names in
// lower case (Entra's "Replace"), the boolean "active" sent as a string
// ("False"), path-less PATCH values with dotted or URN-qualified keys,
// bare-string group members and Entra's remove of listed members. rt is "User", "Group" or "" (unknown). It
// reports whether doc changed.
func (f *Forwarder) normalize(doc map[string]any, rt string, isPatch bool) bool {
	if !isPatch {
		changed := f.stringBool(doc, "active")
		if rt == store.TypeGroup {
			for k, v := range doc {
				if strings.EqualFold(k, "members") {
					if nv, ok := f.bareMembers(v); ok {
						doc[k], changed = nv, true
					}
				}
			}
		}
		return changed
	}
	ops, _ := doc["Operations"].([]any)
	changed := false
	var out []any
	for _, o := range ops {
		op, ok := o.(map[string]any)
		if !ok {
			out = append(out, o)
			continue
		}
		if name, ok := op["op"].(string); ok && name != strings.ToLower(name) {
			op["op"] = strings.ToLower(name)
			f.compat(patch.CompatOpCase)
			changed = true
		}
		path, _ := op["path"].(string)
		switch {
		case strings.EqualFold(path, "active"):
			if s, ok := op["value"].(string); ok {
				if b, ok := parseBool(s); ok {
					op["value"] = b
					f.compat(schema.CompatStringBoolean)
					changed = true
				}
			}
		case rt == store.TypeGroup && isMembersPath(path):
			if nv, ok := f.bareMembers(op["value"]); ok {
				op["value"], changed = nv, true
			}
			if split := f.removeByValue(op); split != nil {
				out = append(out, split...)
				changed = true
				continue
			}
		case path == "":
			v, ok := op["value"].(map[string]any)
			if !ok {
				break
			}
			if f.stringBool(v, "active") {
				changed = true
			}
			for k, mv := range v {
				if rt == store.TypeGroup && isMembersPath(k) {
					if nv, ok := f.bareMembers(mv); ok {
						v[k], changed = nv, true
					}
				}
			}
			if split := f.splitDotted(rt, op, v); split != nil {
				out = append(out, split...)
				changed = true
				continue
			}
		}
		out = append(out, op)
	}
	if changed {
		doc["Operations"] = out
	}
	return changed
}

// isMembersPath reports a PATCH path naming a group's members as a whole.
func isMembersPath(path string) bool {
	p := strings.TrimSpace(path)
	return strings.EqualFold(p, "members") || strings.EqualFold(p, "urn:ietf:params:scim:schemas:core:2.0:Group:members")
}

// bareMembers turns member ids sent as strings ("id" or ["id", …]) into
// member objects ({"value":"id"}); it reports whether it changed v.
func (f *Forwarder) bareMembers(v any) (any, bool) {
	if s, ok := v.(string); ok {
		f.compat(CompatBareMember)
		return []any{map[string]any{"value": s}}, true
	}
	arr, ok := v.([]any)
	if !ok {
		return v, false
	}
	changed := false
	for i, e := range arr {
		if s, ok := e.(string); ok {
			arr[i] = map[string]any{"value": s}
			changed = true
		}
	}
	if changed {
		f.compat(CompatBareMember)
	}
	return arr, changed
}

// splitDotted moves the keys of a path-less add/replace value that name a
// sub-attribute ("name.givenName") or a URN-qualified attribute into
// operations of their own with that path, in key order after what is left
// of the original operation (nil: nothing to move). Keys are resolved with
// the schema the stored backend's PATCH engine uses; a key scimgate does not
// know, or a schema URN holding an extension's attributes (RFC-clean), is
// left as it is.
func (f *Forwarder) splitDotted(rt string, op, value map[string]any) []any {
	res := f.schemas.ResourceType(rt)
	if res == nil {
		return nil
	}
	var moved []string
	for k := range value {
		if s, _ := res.SchemaByURN(k); s != nil {
			continue
		}
		ref, err := res.Resolve(k)
		if err != nil || (ref.Sub == nil && !strings.Contains(k, ":")) {
			continue
		}
		moved = append(moved, k)
	}
	if len(moved) == 0 {
		return nil
	}
	slices.Sort(moved)
	var out []any
	if len(moved) < len(value) {
		rest := maps.Clone(value)
		for _, k := range moved {
			delete(rest, k)
		}
		keep := maps.Clone(op)
		keep["value"] = rest
		out = append(out, keep)
	}
	for _, k := range moved {
		ref, _ := res.Resolve(k)
		out = append(out, map[string]any{"op": op["op"], "path": ref.FullPath(), "value": value[k]})
		f.compat(CompatDottedKey)
	}
	return out
}

// stringBool turns m[key] = "True"/"false" into a boolean.
func (f *Forwarder) stringBool(m map[string]any, key string) bool {
	for k, v := range m {
		if !strings.EqualFold(k, key) {
			continue
		}
		if s, ok := v.(string); ok {
			if b, ok := parseBool(s); ok {
				m[k] = b
				f.compat(schema.CompatStringBoolean)
				return true
			}
		}
	}
	return false
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func (f *Forwarder) compat(rule string) {
	if f.opts.OnCompat != nil {
		f.opts.OnCompat(rule)
	}
}
