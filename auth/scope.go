package auth

import "slices"

// Scopes a credential may carry.
const (
	ScopeSCIM       = "scim_v2"        // all of SCIM
	ScopeSCIMRead   = "scim_v2:read"   // every SCIM read
	ScopeSCIMUsers  = "scim_v2:users"  // read and write of Users
	ScopeSCIMGroups = "scim_v2:groups" // read and write of Groups
	ScopeAPIv3      = "api_v3"
	ScopeBCF        = "bcf_v2_1"
)

// KnownScopes lists every scope a credential may be given.
var KnownScopes = []string{ScopeSCIM, ScopeSCIMRead, ScopeSCIMUsers, ScopeSCIMGroups, ScopeAPIv3, ScopeBCF}

// IsKnownScope reports whether s is one of KnownScopes.
func IsKnownScope(s string) bool { return slices.Contains(KnownScopes, s) }

// Operation is what a SCIM request does, for the scope check.
type Operation struct {
	// Resource is "Users", "Groups", or "" for discovery endpoints and
	// requests that span resource types (root search, bulk).
	Resource string
	Write    bool
}

// Allows reports whether scopes cover op, and if not, the scope that would.
// The one scope check serves all authentication modes.
func Allows(scopes []string, op Operation) (ok bool, needed string) {
	if slices.Contains(scopes, ScopeSCIM) {
		return true, ""
	}
	var own string
	switch op.Resource {
	case "Users":
		own = ScopeSCIMUsers
	case "Groups":
		own = ScopeSCIMGroups
	}
	if !op.Write {
		if slices.Contains(scopes, ScopeSCIMRead) || (own != "" && slices.Contains(scopes, own)) {
			return true, ""
		}
		if op.Resource == "" && (slices.Contains(scopes, ScopeSCIMUsers) || slices.Contains(scopes, ScopeSCIMGroups)) {
			// Discovery endpoints are readable with any SCIM scope.
			return true, ""
		}
		return false, ScopeSCIMRead
	}
	if own != "" && slices.Contains(scopes, own) {
		return true, ""
	}
	if own != "" {
		return false, own
	}
	return false, ScopeSCIM
}
