package config

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/auth"
)

func TestScopesOffered(t *testing.T) {
	c := Default()
	if !slices.Equal(c.Scopes.OfferedList(), auth.KnownScopes) {
		t.Fatalf("default offered = %v, want %v", c.Scopes.OfferedList(), auth.KnownScopes)
	}
	c.Scopes.Offered = " scim_v2 , scim_v2:read "
	if err := c.Validate(); err != nil || !slices.Equal(c.Scopes.OfferedList(), []string{"scim_v2", "scim_v2:read"}) {
		t.Fatalf("scim_v2,scim_v2:read: %v %v", c.Scopes.OfferedList(), err)
	}
	for _, bad := range []string{"", " , ", "scim_v2,root", "scim_v2,scim_v2"} {
		c.Scopes.Offered = bad
		var ke *KeyError
		if err := c.Validate(); !errors.As(err, &ke) || ke.Key != "scopes.offered" {
			t.Errorf("scopes.offered %q: %v, want an error naming the key", bad, err)
		} else if bad == "scim_v2,root" && !strings.Contains(err.Error(), `"root"`) {
			t.Errorf("error does not name the scope: %v", err)
		}
	}
}
