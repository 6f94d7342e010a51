package schema

import "strings"

// Registry holds the resource types and schemas served by one server.
// Build it with NewRegistry and finish any AddUserExtension calls before
// sharing it between goroutines; afterwards it is read-only.
type Registry struct {
	users  *ResourceType
	groups *ResourceType
}

// NewRegistry returns a registry with User (plus the required=false
// EnterpriseUser extension) and Group per RFC 7643 §4 and §8.7.
func NewRegistry() *Registry {
	return &Registry{
		users: &ResourceType{
			Name:        "User",
			Endpoint:    "/Users",
			Description: "User Account",
			Schema:      userSchema(),
			Extensions:  []Extension{{Schema: enterpriseUserSchema()}},
		},
		groups: &ResourceType{
			Name:        "Group",
			Endpoint:    "/Groups",
			Description: "Group",
			Schema:      groupSchema(),
		},
	}
}

// AddUserExtension adds (or replaces, matching by URN) an extension schema
// of the User resource type. It must not be called concurrently with use.
func (r *Registry) AddUserExtension(s *Schema, required bool) {
	if e := r.users.Extension(s.ID); e != nil {
		e.Schema, e.Required = s, required
		return
	}
	r.users.Extensions = append(r.users.Extensions, Extension{Schema: s, Required: required})
}

// Users returns the User resource type.
func (r *Registry) Users() *ResourceType { return r.users }

// Groups returns the Group resource type.
func (r *Registry) Groups() *ResourceType { return r.groups }

// ResourceTypes returns all resource types, User first.
func (r *Registry) ResourceTypes() []*ResourceType {
	return []*ResourceType{r.users, r.groups}
}

// ResourceType returns the resource type with the given name
// (case-insensitive), or nil.
func (r *Registry) ResourceType(name string) *ResourceType {
	for _, rt := range r.ResourceTypes() {
		if strings.EqualFold(rt.Name, name) {
			return rt
		}
	}
	return nil
}

// Schemas returns every schema once: the core schemas, then extensions.
func (r *Registry) Schemas() []*Schema {
	var out []*Schema
	seen := map[string]bool{}
	add := func(s *Schema) {
		if !seen[s.ID] {
			seen[s.ID] = true
			out = append(out, s)
		}
	}
	for _, rt := range r.ResourceTypes() {
		add(rt.Schema)
	}
	for _, rt := range r.ResourceTypes() {
		for _, e := range rt.Extensions {
			add(e.Schema)
		}
	}
	return out
}

// Schema returns the schema with the given URN (case-insensitive), or nil.
func (r *Registry) Schema(urn string) *Schema {
	for _, s := range r.Schemas() {
		if strings.EqualFold(s.ID, urn) {
			return s
		}
	}
	return nil
}
