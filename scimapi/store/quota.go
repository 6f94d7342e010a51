package store

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoDirectory is returned by a directory resolver (scimapi.Backends)
// for a directory that does not exist or is being deleted.
var ErrNoDirectory = errors.New("store: the client's directory does not exist")

// QuotaError refuses to create a User in a directory that holds Max Users.
type QuotaError struct{ Max int64 }

func (e *QuotaError) Error() string {
	return fmt.Sprintf("store: the directory holds its maximum of %d users", e.Max)
}

// WithUserQuota returns st refusing to create a User while st holds max
// or more (max <= 0: st itself). When st is a Capper (the Redis store) the
// count is checked inside the create script, atomically, so concurrent
// creations never pass max. Otherwise it is read before the create: then
// concurrent creations may each see room, and a directory can exceed max by
// at most the number of creations running at the same moment.
func WithUserQuota(st Store, max int64) Store {
	if max <= 0 {
		return st
	}
	return &quotaStore{Store: st, max: max}
}

type quotaStore struct {
	Store
	max int64
}

// Capper is a Store that checks a User cap in the create itself (Redis).
type Capper interface {
	CreateCapped(ctx context.Context, typ string, attrs map[string]any, members []Member, j *Journal, maxUsers int64) (*Resource, error)
}

// Create implements Store.
func (q *quotaStore) Create(ctx context.Context, typ string, attrs map[string]any, members []Member, j *Journal) (*Resource, error) {
	if c, ok := q.Store.(Capper); ok {
		return c.CreateCapped(ctx, typ, attrs, members, j, q.max)
	}
	if typ == TypeUser {
		n, err := q.Count(ctx, TypeUser)
		if err != nil {
			return nil, err
		}
		if n >= q.max {
			return nil, &QuotaError{Max: q.max}
		}
	}
	return q.Store.Create(ctx, typ, attrs, members, j)
}
