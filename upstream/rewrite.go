package upstream

import "strings"

// rewriteURL maps a URL under the upstream base from to scimgate's base
// to; other URLs are returned unchanged.
func rewriteURL(s, from, to string) string {
	if s == from {
		return to
	}
	if strings.HasPrefix(s, from+"/") {
		return to + s[len(from):]
	}
	return s
}

// rewriteLocations rewrites, anywhere in doc, the values of "location"
// (meta.location, bulk operation locations) and "$ref" (member and group
// references) from the upstream base to scimgate's. JSON nesting is bounded
// by the decoder (encoding/json refuses depth beyond 10,000).
func rewriteLocations(v any, from, to string) {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if s, ok := val.(string); ok && (k == "location" || k == "$ref") {
				t[k] = rewriteURL(s, from, to)
				continue
			}
			rewriteLocations(val, from, to)
		}
	case []any:
		for _, e := range t {
			rewriteLocations(e, from, to)
		}
	}
}
