package directory

import (
	"context"
	"fmt"
	"sort"
)

// IDs returns the ids of every directory but the default one, sorted, in
// one read of the names index (no record is read; a directory being
// deleted is included).
func (r *Registry) IDs(ctx context.Context) ([]string, error) {
	ids, err := r.rdb.HVals(ctx, r.namesKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("list directory ids: %w", err)
	}
	sort.Strings(ids)
	return ids, nil
}
