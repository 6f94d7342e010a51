package upstream

import (
	"strings"

	"github.com/scimgate/scimgate/scimapi/patch"
	"github.com/scimgate/scimgate/scimapi/schema"
)

// normalize applies the IdP compatibility rules that upstream SCIM servers
// most often refuse, in place, counting each through OnCompat (same rule
// names as the stored backend): PATCH op names in lower case (Entra's
// "Replace"), and the boolean "active" sent as a string ("False"). It
// reports whether doc changed.
func (f *Forwarder) normalize(doc map[string]any, isPatch bool) bool {
	if !isPatch {
		return f.stringBool(doc, "active")
	}
	ops, _ := doc["Operations"].([]any)
	changed := false
	for _, o := range ops {
		op, ok := o.(map[string]any)
		if !ok {
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
		case path == "":
			if v, ok := op["value"].(map[string]any); ok && f.stringBool(v, "active") {
				changed = true
			}
		}
	}
	return changed
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
