package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/auth"
)

// Scopes configures the scopes administrators may give credentials.
type Scopes struct {
	// Offered is the comma-separated list of scopes the console offers and
	// the admin API and CLI accept for tokens and client_credentials
	// clients; each must be a scope the gateway knows (auth.KnownScopes).
	Offered string `yaml:"offered" doc:"comma-separated scopes the console offers and the admin API accepts on new tokens and client_credentials clients (a subset of scim_v2, scim_v2:read, scim_v2:users, scim_v2:groups, api_v3, bcf_v2_1); leave out api_v3 and bcf_v2_1 when no application uses them"`
}

func defaultScopes() Scopes { return Scopes{Offered: strings.Join(auth.KnownScopes, ",")} }

// OfferedList splits Offered into its entries.
func (s Scopes) OfferedList() []string { return splitList(s.Offered) }

func (s Scopes) validate() error {
	list := s.OfferedList()
	if len(list) == 0 {
		return &KeyError{Key: "scopes.offered", Err: fmt.Errorf("must name at least one scope (e.g. %s)", auth.ScopeSCIM)}
	}
	for _, sc := range list {
		if !auth.IsKnownScope(sc) {
			return &KeyError{Key: "scopes.offered", Err: fmt.Errorf("%q is not a scope the gateway knows (%s)", sc, strings.Join(auth.KnownScopes, ", "))}
		}
	}
	for i, sc := range list {
		if slices.Contains(list[:i], sc) {
			return &KeyError{Key: "scopes.offered", Err: fmt.Errorf("%q is listed twice", sc)}
		}
	}
	return nil
}
