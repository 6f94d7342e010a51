package schema

import "strings"

// Representation returns the JSON body served at /Schemas/{id}
// (RFC 7643 §7). baseURL is the service root without trailing slash.
func (s *Schema) Representation(baseURL string) map[string]any {
	attrs := make([]any, 0, len(s.Attributes))
	for _, a := range s.Attributes {
		attrs = append(attrs, a.representation())
	}
	return map[string]any{
		"schemas":     []any{SchemaSchemaURN},
		"id":          s.ID,
		"name":        s.Name,
		"description": s.Description,
		"attributes":  attrs,
		"meta": map[string]any{
			"resourceType": "Schema",
			"location":     strings.TrimRight(baseURL, "/") + "/Schemas/" + s.ID,
		},
	}
}

func (a *Attribute) representation() map[string]any {
	m := map[string]any{
		"name":        a.Name,
		"type":        string(a.Type),
		"multiValued": a.MultiValued,
		"description": a.Description,
		"required":    a.Required,
		"caseExact":   a.CaseExact,
		"mutability":  string(a.Mutability),
		"returned":    string(a.Returned),
		"uniqueness":  string(a.Uniqueness),
	}
	if len(a.CanonicalValues) > 0 {
		m["canonicalValues"] = toAnySlice(a.CanonicalValues)
	}
	if a.Type == TypeReference {
		m["referenceTypes"] = toAnySlice(a.ReferenceTypes)
	}
	if a.Type == TypeComplex {
		subs := make([]any, 0, len(a.SubAttributes))
		for _, s := range a.SubAttributes {
			subs = append(subs, s.representation())
		}
		m["subAttributes"] = subs
	}
	return m
}

// Representation returns the JSON body served at /ResourceTypes/{name}
// (RFC 7643 §6).
func (rt *ResourceType) Representation(baseURL string) map[string]any {
	m := map[string]any{
		"schemas":     []any{ResourceTypeSchemaURN},
		"id":          rt.Name,
		"name":        rt.Name,
		"endpoint":    rt.Endpoint,
		"description": rt.Description,
		"schema":      rt.Schema.ID,
		"meta": map[string]any{
			"resourceType": "ResourceType",
			"location":     strings.TrimRight(baseURL, "/") + "/ResourceTypes/" + rt.Name,
		},
	}
	if len(rt.Extensions) > 0 {
		exts := make([]any, 0, len(rt.Extensions))
		for _, e := range rt.Extensions {
			exts = append(exts, map[string]any{"schema": e.Schema.ID, "required": e.Required})
		}
		m["schemaExtensions"] = exts
	}
	return m
}

func toAnySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
