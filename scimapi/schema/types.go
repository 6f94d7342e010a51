// Package schema holds the SCIM 2.0 schema model (RFC 7643): attribute
// characteristics, the core User, EnterpriseUser and Group schemas, attribute
// path resolution, resource normalisation, projection and value comparison.
package schema

// Type is an attribute data type (RFC 7643 §2.3).
type Type string

// Attribute data types.
const (
	TypeString    Type = "string"
	TypeBoolean   Type = "boolean"
	TypeDecimal   Type = "decimal"
	TypeInteger   Type = "integer"
	TypeDateTime  Type = "dateTime"
	TypeBinary    Type = "binary"
	TypeReference Type = "reference"
	TypeComplex   Type = "complex"
)

// Mutability says whether and how an attribute can be modified (RFC 7643 §7).
type Mutability string

// Mutability values.
const (
	ReadOnly  Mutability = "readOnly"
	ReadWrite Mutability = "readWrite"
	Immutable Mutability = "immutable"
	WriteOnly Mutability = "writeOnly"
)

// Returned says when an attribute is returned in a response (RFC 7643 §7).
type Returned string

// Returned values.
const (
	ReturnedAlways  Returned = "always"
	ReturnedNever   Returned = "never"
	ReturnedDefault Returned = "default"
	ReturnedRequest Returned = "request"
)

// Uniqueness says how the service enforces uniqueness (RFC 7643 §7).
type Uniqueness string

// Uniqueness values.
const (
	UniqueNone   Uniqueness = "none"
	UniqueServer Uniqueness = "server"
	UniqueGlobal Uniqueness = "global"
)

// Schema URNs.
const (
	UserSchemaURN         = "urn:ietf:params:scim:schemas:core:2.0:User"
	EnterpriseUserURN     = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	GroupSchemaURN        = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaSchemaURN       = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	ResourceTypeSchemaURN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	// RoleExtensionURN is scimgate's own User extension carrying the
	// server-computed effective role.
	RoleExtensionURN = "urn:scimgate:params:scim:schemas:extension:role:2.0:User"
)

// Attribute describes one attribute and its characteristics (RFC 7643 §2, §7).
type Attribute struct {
	Name            string
	Type            Type
	MultiValued     bool
	Description     string
	Required        bool
	CaseExact       bool
	Mutability      Mutability
	Returned        Returned
	Uniqueness      Uniqueness
	CanonicalValues []string
	ReferenceTypes  []string
	SubAttributes   []*Attribute
}

// Schema is a named set of attributes identified by a URN (RFC 7643 §7).
type Schema struct {
	ID          string
	Name        string
	Description string
	Attributes  []*Attribute
}

// Extension is a schema extension of a resource type.
type Extension struct {
	Schema   *Schema
	Required bool
}

// ResourceType describes a SCIM resource type (RFC 7643 §6).
type ResourceType struct {
	Name        string
	Endpoint    string
	Description string
	Schema      *Schema
	Extensions  []Extension
}

// Attribute returns the attribute with the given name, compared
// case-insensitively, or nil.
func (s *Schema) Attribute(name string) *Attribute {
	return findAttr(s.Attributes, name)
}

// SubAttribute returns the sub-attribute with the given name, compared
// case-insensitively, or nil.
func (a *Attribute) SubAttribute(name string) *Attribute {
	return findAttr(a.SubAttributes, name)
}

func findAttr(list []*Attribute, name string) *Attribute {
	for _, a := range list {
		if a.Name == name {
			return a
		}
	}
	for _, a := range list {
		if equalFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// Extension returns the extension whose schema URN matches urn
// case-insensitively, or nil.
func (rt *ResourceType) Extension(urn string) *Extension {
	for i := range rt.Extensions {
		if equalFold(rt.Extensions[i].Schema.ID, urn) {
			return &rt.Extensions[i]
		}
	}
	return nil
}

// SchemaURNs returns the core schema URN followed by the extension URNs.
func (rt *ResourceType) SchemaURNs() []string {
	out := make([]string, 0, 1+len(rt.Extensions))
	out = append(out, rt.Schema.ID)
	for _, e := range rt.Extensions {
		out = append(out, e.Schema.ID)
	}
	return out
}
