package directory

import (
	"context"
	"errors"

	"github.com/scimgate/scimgate/tokenstore"
)

// DirectoryRateLimit returns directory id's own rate limit (nil: none; an
// unknown directory has none). It makes Registry a ratelimit.DirectorySource.
func (r *Registry) DirectoryRateLimit(ctx context.Context, id string) (*tokenstore.RateLimit, error) {
	d, err := r.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return d.RateLimit, nil
}
