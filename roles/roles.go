// Package roles derives a user's application role from the identity
// provider's data: the groups the user is in (mapped to roles by
// configuration) and the user's own SCIM "roles" attribute.
//
// Rules, in order:
//  1. From groups: every group the user is a direct member of whose
//     displayName or externalId (case-insensitively) is mapped yields its
//     role; the highest role by precedence wins.
//  2. From the roles attribute (Productboard-style): the value of the
//     element marked primary, else of the first element.
//  3. When both yield a role, Prefer says which source wins.
//  4. Otherwise the default role.
package roles

import (
	"fmt"
	"slices"
	"strings"
)

// Sources a Mapper may prefer.
const (
	PreferGroups    = "groups"
	PreferAttribute = "attribute"
)

// Group is what the mapper needs to know of one group of a user.
type Group struct {
	DisplayName string
	ExternalID  string
}

// Mapper computes effective roles. The zero value is not usable; build it
// with New. A Mapper is immutable and safe for concurrent use.
type Mapper struct {
	byGroup    map[string]string // lower-cased displayName or externalId -> role
	rank       map[string]int    // role -> rank, 0 = highest
	defaultRol string
	prefer     string
}

// Config is the textual configuration of a Mapper.
type Config struct {
	// Mapping is "group=ROLE,group2=ROLE2"; group is a displayName or an
	// externalId.
	Mapping string
	// Precedence is "ADMIN,PROJECTADMIN,USER", highest first. Roles not
	// listed rank below all listed ones, in name order.
	Precedence string
	// Default is the role of a user nothing maps.
	Default string
	// Prefer is PreferGroups or PreferAttribute.
	Prefer string
}

// New parses c. It returns an error naming the offending part.
func New(c Config) (*Mapper, error) {
	m := &Mapper{byGroup: map[string]string{}, rank: map[string]int{}, defaultRol: strings.TrimSpace(c.Default), prefer: c.Prefer}
	switch c.Prefer {
	case "", PreferGroups:
		m.prefer = PreferGroups
	case PreferAttribute:
	default:
		return nil, fmt.Errorf("prefer must be %q or %q", PreferGroups, PreferAttribute)
	}
	for i, r := range splitList(c.Precedence) {
		if _, dup := m.rank[r]; dup {
			return nil, fmt.Errorf("precedence lists %q twice", r)
		}
		m.rank[r] = i
	}
	for _, pair := range splitList(c.Mapping) {
		group, role, ok := strings.Cut(pair, "=")
		group, role = strings.TrimSpace(group), strings.TrimSpace(role)
		if !ok || group == "" || role == "" {
			return nil, fmt.Errorf("mapping entry %q is not group=ROLE", pair)
		}
		key := strings.ToLower(group)
		if prev, dup := m.byGroup[key]; dup && prev != role {
			return nil, fmt.Errorf("group %q is mapped to both %q and %q", group, prev, role)
		}
		m.byGroup[key] = role
	}
	return m, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Enabled reports whether any mapping or default is configured; a Mapper
// that is not enabled yields no role at all.
func (m *Mapper) Enabled() bool {
	return m != nil && (len(m.byGroup) > 0 || m.defaultRol != "" || m.prefer == PreferAttribute)
}

// Maps reports whether a group with this displayName or externalId is mapped.
func (m *Mapper) Maps(g Group) bool {
	_, ok := m.roleOf(g)
	return ok
}

func (m *Mapper) roleOf(g Group) (string, bool) {
	if r, ok := m.byGroup[strings.ToLower(g.DisplayName)]; ok && g.DisplayName != "" {
		return r, true
	}
	if r, ok := m.byGroup[strings.ToLower(g.ExternalID)]; ok && g.ExternalID != "" {
		return r, true
	}
	return "", false
}

// higher reports whether role a outranks role b.
func (m *Mapper) higher(a, b string) bool {
	ra, okA := m.rank[a]
	rb, okB := m.rank[b]
	switch {
	case okA && okB:
		return ra < rb
	case okA != okB:
		return okA
	}
	return a < b
}

// Effective returns the user's role from its groups and its SCIM roles
// attribute value (the decoded JSON array, or nil).
func (m *Mapper) Effective(groups []Group, rolesAttr any) string {
	fromGroups := ""
	for _, g := range groups {
		if r, ok := m.roleOf(g); ok && (fromGroups == "" || m.higher(r, fromGroups)) {
			fromGroups = r
		}
	}
	fromAttr := attributeRole(rolesAttr)
	switch {
	case fromGroups != "" && fromAttr != "":
		if m.prefer == PreferAttribute {
			return fromAttr
		}
		return fromGroups
	case fromGroups != "":
		return fromGroups
	case fromAttr != "":
		return fromAttr
	}
	return m.defaultRol
}

// attributeRole picks the primary element's value, else the first's.
func attributeRole(v any) string {
	arr, _ := v.([]any)
	first := ""
	for _, e := range arr {
		el, _ := e.(map[string]any)
		val, _ := el["value"].(string)
		if val == "" {
			continue
		}
		if p, _ := el["primary"].(bool); p {
			return val
		}
		if first == "" {
			first = val
		}
	}
	return first
}

// Roles lists every role the mapper can yield, highest first.
func (m *Mapper) Roles() []string {
	set := map[string]bool{}
	for _, r := range m.byGroup {
		set[r] = true
	}
	if m.defaultRol != "" {
		set[m.defaultRol] = true
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b string) int {
		if m.higher(a, b) {
			return -1
		}
		if m.higher(b, a) {
			return 1
		}
		return 0
	})
	return out
}
