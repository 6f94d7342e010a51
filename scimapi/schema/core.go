package schema

// This file defines the schemas of RFC 7643 §4.1 (User), §4.2 (Group),
// §4.3 (EnterpriseUser) as represented in §8.7.1. Every call builds fresh
// values so that registries never share mutable state.

type attrOpt func(*Attribute)

func newAttr(name string, t Type, desc string, opts ...attrOpt) *Attribute {
	a := &Attribute{
		Name:        name,
		Type:        t,
		Description: desc,
		Mutability:  ReadWrite,
		Returned:    ReturnedDefault,
		Uniqueness:  UniqueNone,
	}
	for _, o := range opts {
		o(a)
	}
	if a.Type == TypeReference && a.ReferenceTypes == nil {
		a.ReferenceTypes = []string{"external"}
	}
	return a
}

func required(a *Attribute)   { a.Required = true }
func caseExact(a *Attribute)  { a.CaseExact = true }
func multi(a *Attribute)      { a.MultiValued = true }
func readOnly(a *Attribute)   { a.Mutability = ReadOnly }
func immutable(a *Attribute)  { a.Mutability = Immutable }
func writeOnly(a *Attribute)  { a.Mutability = WriteOnly }
func neverRet(a *Attribute)   { a.Returned = ReturnedNever }
func alwaysRet(a *Attribute)  { a.Returned = ReturnedAlways }
func serverUniq(a *Attribute) { a.Uniqueness = UniqueServer }
func subs(s ...*Attribute) attrOpt {
	return func(a *Attribute) { a.SubAttributes = s }
}
func canon(v ...string) attrOpt {
	return func(a *Attribute) { a.CanonicalValues = v }
}
func refs(v ...string) attrOpt {
	return func(a *Attribute) { a.ReferenceTypes = v }
}

// commonAttributes returns id, externalId and meta (RFC 7643 §3.1).
func commonAttributes() []*Attribute {
	return []*Attribute{
		newAttr("id", TypeString, "Unique identifier for the SCIM resource as defined by the service provider.",
			required, caseExact, readOnly, alwaysRet, serverUniq),
		newAttr("externalId", TypeString, "Identifier of the resource as defined by the provisioning client.",
			caseExact),
		newAttr("meta", TypeComplex, "Resource metadata.", readOnly, subs(
			newAttr("resourceType", TypeString, "Name of the resource type.", caseExact, readOnly),
			newAttr("created", TypeDateTime, "DateTime the resource was added.", readOnly),
			newAttr("lastModified", TypeDateTime, "DateTime the resource was last modified.", readOnly),
			newAttr("location", TypeReference, "URI of the resource.", caseExact, readOnly, refs("uri")),
			newAttr("version", TypeString, "Version (ETag) of the resource.", caseExact, readOnly),
		)),
	}
}

// multiValue returns the value/display/type/primary sub-attributes used by
// emails, phoneNumbers, ims, photos, entitlements, roles and x509Certificates.
func multiValue(valueType Type, desc string, types []string, valueOpts ...attrOpt) []*Attribute {
	return []*Attribute{
		newAttr("value", valueType, desc, valueOpts...),
		newAttr("display", TypeString, "A human-readable name, primarily used for display purposes."),
		newAttr("type", TypeString, "A label indicating the attribute's function.", canon(types...)),
		newAttr("primary", TypeBoolean, "Indicates the 'primary' or preferred attribute value."),
	}
}

func userSchema() *Schema {
	attrs := commonAttributes()
	attrs = append(attrs,
		newAttr("userName", TypeString, "Unique identifier for the User, typically used to authenticate.",
			required, serverUniq),
		newAttr("name", TypeComplex, "The components of the user's real name.", subs(
			newAttr("formatted", TypeString, "The full name, formatted for display."),
			newAttr("familyName", TypeString, "The family name of the User."),
			newAttr("givenName", TypeString, "The given name of the User."),
			newAttr("middleName", TypeString, "The middle name(s) of the User."),
			newAttr("honorificPrefix", TypeString, "The honorific prefix(es) of the User."),
			newAttr("honorificSuffix", TypeString, "The honorific suffix(es) of the User."),
		)),
		newAttr("displayName", TypeString, "The name of the User, suitable for display to end-users."),
		newAttr("nickName", TypeString, "The casual way to address the user in real life."),
		newAttr("profileUrl", TypeReference, "A fully qualified URL pointing to a page representing the User's online profile."),
		newAttr("title", TypeString, "The user's title, such as \"Vice President\"."),
		newAttr("userType", TypeString, "Used to identify the relationship between the organization and the user."),
		newAttr("preferredLanguage", TypeString, "Indicates the User's preferred written or spoken language."),
		newAttr("locale", TypeString, "Used to indicate the User's default location."),
		newAttr("timezone", TypeString, "The User's time zone in the 'Olson' time zone database format."),
		newAttr("active", TypeBoolean, "A Boolean value indicating the User's administrative status."),
		newAttr("password", TypeString, "The User's cleartext password.", writeOnly, neverRet),
		newAttr("emails", TypeComplex, "Email addresses for the user.", multi,
			subs(multiValue(TypeString, "Email addresses for the user.", []string{"work", "home", "other"})...)),
		newAttr("phoneNumbers", TypeComplex, "Phone numbers for the User.", multi,
			subs(multiValue(TypeString, "Phone number of the User.", []string{"work", "home", "mobile", "fax", "pager", "other"})...)),
		newAttr("ims", TypeComplex, "Instant messaging addresses for the User.", multi,
			subs(multiValue(TypeString, "Instant messaging address for the User.",
				[]string{"aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"})...)),
		newAttr("photos", TypeComplex, "URLs of photos of the User.", multi,
			subs(multiValue(TypeReference, "URL of a photo of the User.", []string{"photo", "thumbnail"}, refs("external"))...)),
		newAttr("addresses", TypeComplex, "A physical mailing address for this User.", multi, subs(
			newAttr("formatted", TypeString, "The full mailing address, formatted for display."),
			newAttr("streetAddress", TypeString, "The full street address component."),
			newAttr("locality", TypeString, "The city or locality component."),
			newAttr("region", TypeString, "The state or region component."),
			newAttr("postalCode", TypeString, "The zip code or postal code component."),
			newAttr("country", TypeString, "The country name component."),
			newAttr("type", TypeString, "A label indicating the attribute's function.", canon("work", "home", "other")),
			newAttr("primary", TypeBoolean, "Indicates the 'primary' or preferred address."),
		)),
		newAttr("groups", TypeComplex, "A list of groups to which the user belongs.", multi, readOnly, subs(
			newAttr("value", TypeString, "The identifier of the User's group.", readOnly),
			newAttr("$ref", TypeReference, "The URI of the corresponding 'Group' resource.", readOnly, refs("User", "Group")),
			newAttr("display", TypeString, "A human-readable name of the group.", readOnly),
			newAttr("type", TypeString, "Direct or indirect membership.", readOnly, canon("direct", "indirect")),
		)),
		newAttr("entitlements", TypeComplex, "A list of entitlements for the User.", multi,
			subs(multiValue(TypeString, "The value of an entitlement.", nil)...)),
		newAttr("roles", TypeComplex, "A list of roles for the User.", multi,
			subs(multiValue(TypeString, "The value of a role.", nil)...)),
		newAttr("x509Certificates", TypeComplex, "A list of certificates issued to the User.", multi,
			subs(multiValue(TypeBinary, "The value of an X.509 certificate.", nil)...)),
	)
	return &Schema{ID: UserSchemaURN, Name: "User", Description: "User Account", Attributes: attrs}
}

func enterpriseUserSchema() *Schema {
	return &Schema{
		ID:          EnterpriseUserURN,
		Name:        "EnterpriseUser",
		Description: "Enterprise User",
		Attributes: []*Attribute{
			newAttr("employeeNumber", TypeString, "Numeric or alphanumeric identifier assigned to a person."),
			newAttr("costCenter", TypeString, "Identifies the name of a cost center."),
			newAttr("organization", TypeString, "Identifies the name of an organization."),
			newAttr("division", TypeString, "Identifies the name of a division."),
			newAttr("department", TypeString, "Identifies the name of a department."),
			newAttr("manager", TypeComplex, "The User's manager.", subs(
				newAttr("value", TypeString, "The id of the SCIM resource representing the User's manager."),
				newAttr("$ref", TypeReference, "The URI of the SCIM resource representing the User's manager.", refs("User")),
				newAttr("displayName", TypeString, "The displayName of the User's manager.", readOnly),
			)),
		},
	}
}

func groupSchema() *Schema {
	attrs := commonAttributes()
	attrs = append(attrs,
		newAttr("displayName", TypeString, "A human-readable name for the Group.", required),
		newAttr("members", TypeComplex, "A list of members of the Group.", multi, subs(
			newAttr("value", TypeString, "Identifier of the member of this Group.", immutable),
			newAttr("$ref", TypeReference, "The URI of the member resource.", immutable, refs("User", "Group")),
			newAttr("type", TypeString, "A label indicating the type of resource.", immutable, canon("User", "Group")),
			newAttr("display", TypeString, "A human-readable name of the member."),
		)),
	)
	return &Schema{ID: GroupSchemaURN, Name: "Group", Description: "Group", Attributes: attrs}
}

// RoleExtension returns scimgate's role extension schema: a single
// readOnly effectiveRole string computed by the server.
func RoleExtension() *Schema {
	return &Schema{
		ID:          RoleExtensionURN,
		Name:        "RoleExtension",
		Description: "scimgate role extension",
		Attributes: []*Attribute{
			newAttr("effectiveRole", TypeString, "The role the server derived for this User.", readOnly),
		},
	}
}
