package schema

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownAttribute is wrapped by resolution errors for attribute paths
// that the resource type does not define.
var ErrUnknownAttribute = errors.New("unknown attribute")

// AttrRef is a resolved attribute path.
type AttrRef struct {
	// Schema is the schema defining the attribute (core or extension).
	Schema *Schema
	// Extension is true when the attribute lives under its schema URN key.
	Extension bool
	// Attr is the top-level attribute.
	Attr *Attribute
	// Sub is the named sub-attribute, or nil.
	Sub *Attribute
}

// Target returns the sub-attribute if one was named, else the attribute.
func (r AttrRef) Target() *Attribute {
	if r.Sub != nil {
		return r.Sub
	}
	return r.Attr
}

// Path returns the canonical path without URN, e.g. "name.givenName".
func (r AttrRef) Path() string {
	if r.Sub != nil {
		return r.Attr.Name + "." + r.Sub.Name
	}
	return r.Attr.Name
}

// TopName returns the canonical top-level name: the bare name for core
// attributes and the URN-qualified name for extension attributes.
func (r AttrRef) TopName() string {
	if r.Extension {
		return r.Schema.ID + ":" + r.Attr.Name
	}
	return r.Attr.Name
}

// FullPath returns TopName plus the sub-attribute, if any.
func (r AttrRef) FullPath() string {
	if r.Sub != nil {
		return r.TopName() + "." + r.Sub.Name
	}
	return r.TopName()
}

// Container returns the object holding the top-level attribute within doc:
// doc itself for core attributes, doc[URN] for extension attributes (nil
// when absent).
func (r AttrRef) Container(doc map[string]any) map[string]any {
	if !r.Extension {
		return doc
	}
	v, _ := Lookup(doc, r.Schema.ID)
	m, _ := v.(map[string]any)
	return m
}

// Value returns the top-level attribute value in doc, or nil.
func (r AttrRef) Value(doc map[string]any) any {
	c := r.Container(doc)
	if c == nil {
		return nil
	}
	v, _ := Lookup(c, r.Attr.Name)
	return v
}

// Lookup returns m[name], falling back to a case-insensitive key match.
func Lookup(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// SchemaByURN returns the core or extension schema with the given URN
// (case-insensitive) and whether it is an extension; nil if unknown.
func (rt *ResourceType) SchemaByURN(urn string) (*Schema, bool) {
	if strings.EqualFold(rt.Schema.ID, urn) {
		return rt.Schema, false
	}
	if e := rt.Extension(urn); e != nil {
		return e.Schema, true
	}
	return nil, false
}

// Resolve resolves an attribute path such as "userName", "name.givenName",
// "emails.value" or a URN-qualified path, case-insensitively.
func (rt *ResourceType) Resolve(path string) (AttrRef, error) {
	uri, rest := rt.splitURN(path)
	if uri == "" && hasURNPrefix(path) {
		return AttrRef{}, fmt.Errorf("%w: %q: unknown schema", ErrUnknownAttribute, path)
	}
	name, sub, _ := strings.Cut(rest, ".")
	if strings.Contains(sub, ".") {
		return AttrRef{}, fmt.Errorf("%w: %q: too many path segments", ErrUnknownAttribute, path)
	}
	return rt.ResolveParts(uri, name, sub)
}

// ResolveParts resolves a path given as schema URN (may be empty for the
// core schema), attribute name and sub-attribute name (may be empty).
func (rt *ResourceType) ResolveParts(uri, name, sub string) (AttrRef, error) {
	s, ext := rt.Schema, false
	if uri != "" {
		s, ext = rt.SchemaByURN(uri)
		if s == nil {
			return AttrRef{}, fmt.Errorf("%w: unknown schema %q", ErrUnknownAttribute, uri)
		}
	}
	a := s.Attribute(name)
	if a == nil {
		return AttrRef{}, fmt.Errorf("%w: %q in schema %s", ErrUnknownAttribute, name, s.ID)
	}
	ref := AttrRef{Schema: s, Extension: ext, Attr: a}
	if sub != "" {
		if a.Type != TypeComplex {
			return AttrRef{}, fmt.Errorf("%w: %q has no sub-attributes", ErrUnknownAttribute, a.Name)
		}
		if ref.Sub = a.SubAttribute(sub); ref.Sub == nil {
			return AttrRef{}, fmt.Errorf("%w: %q has no sub-attribute %q", ErrUnknownAttribute, a.Name, sub)
		}
	}
	return ref, nil
}

// splitURN splits a known schema URN prefix ("urn:...:User:") off path.
// It returns an empty uri when path starts with no known schema URN.
func (rt *ResourceType) splitURN(path string) (uri, rest string) {
	best := ""
	for _, u := range rt.SchemaURNs() {
		if len(path) > len(u) && path[len(u)] == ':' && strings.EqualFold(path[:len(u)], u) && len(u) > len(best) {
			best = u
		}
	}
	if best == "" {
		return "", path
	}
	return best, path[len(best)+1:]
}

func hasURNPrefix(s string) bool {
	return len(s) >= 4 && strings.EqualFold(s[:4], "urn:")
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
