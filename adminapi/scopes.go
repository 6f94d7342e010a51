package adminapi

import (
	"slices"
	"strings"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/tokenstore"
)

// SetOfferedScopes limits the scopes new tokens and client_credentials
// clients may be given to offered (config scopes.offered), each a scope
// of auth.KnownScopes; the default offers every known scope. Credentials
// already holding other scopes keep them.
func (s *Service) SetOfferedScopes(offered []string) { s.offered = slices.Clone(offered) }

// OfferedScopes returns the scopes on offer, in the configured order.
func (s *Service) OfferedScopes() []string {
	if s.offered == nil {
		return auth.KnownScopes
	}
	return s.offered
}

// checkOffered refuses a scope of in that is not on offer; field names the
// input in the error.
func (s *Service) checkOffered(field string, in []string) error {
	offered := s.OfferedScopes()
	for _, sc := range in {
		if sc = strings.TrimSpace(sc); !slices.Contains(offered, sc) {
			return fieldErr(field, "%q is not an offered scope (scopes.offered: %s)", sc, strings.Join(offered, ", "))
		}
	}
	return nil
}

// applyAllowedScopes sets the allowed scopes of a client_credentials
// client from p (nil: unchanged; empty: the default, scim_v2). A scope
// must be offered unless the client already has it.
func (s *Service) applyAllowedScopes(p ClientPatch, c *tokenstore.Client) error {
	if p.AllowedScopes == nil {
		return nil
	}
	if c.Method != string(auth.MethodClientCredentials) {
		return fieldErr("allowed_scopes", "allowed scopes are a setting of client_credentials clients (client method is %s)", c.Method)
	}
	// Offered scopes are known ones, so this also refuses unknown ones.
	var added []string
	for _, sc := range *p.AllowedScopes {
		if !slices.Contains(c.AllowedScopes, strings.TrimSpace(sc)) {
			added = append(added, sc)
		}
	}
	if err := s.checkOffered("allowed_scopes", added); err != nil {
		return err
	}
	scopes, err := checkScopes(*p.AllowedScopes)
	if err != nil {
		return err
	}
	// An empty list means the default scope, which must be on offer too
	// unless the client already has it.
	if len(*p.AllowedScopes) == 0 && !slices.Contains(c.AllowedScopes, auth.ScopeSCIM) {
		if err := s.checkOffered("allowed_scopes", scopes); err != nil {
			return err
		}
	}
	c.AllowedScopes = scopes
	return nil
}
