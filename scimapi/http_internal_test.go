package scimapi

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestStoreErrorsToSCIM: the store's errors, wrapped or not, become the
// SCIM errors RFC 7644 §3.12 gives them; a creation that was applied and
// then deleted by another request before its lost reply was resent is a
// 409 without scimType (none fits), not an internal error.
func TestStoreErrorsToSCIM(t *testing.T) {
	for _, c := range []struct {
		err      error
		status   int
		scimType string
	}{
		{store.ErrNotFound, http.StatusNotFound, ""},
		{store.ErrVersionMismatch, http.StatusPreconditionFailed, ""},
		{&store.UniquenessError{Attr: "userName"}, http.StatusConflict, scimerr.Uniqueness},
		{store.ErrCreatedThenDeleted, http.StatusConflict, ""},
		{fmt.Errorf("create: %w", store.ErrCreatedThenDeleted), http.StatusConflict, ""},
	} {
		se, ok := scimerr.As(toSCIMError(c.err))
		if !ok || se.Status != c.status || se.ScimType != c.scimType {
			t.Errorf("%v: %+v, want %d %q", c.err, se, c.status, c.scimType)
		}
	}
}
