package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/tokenstore"
)

// Registry keeps the directory records in Redis.
type Registry struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRegistry returns the registry under prefix (the configured
// redis.prefix; it must not contain braces).
func NewRegistry(rdb redis.UniversalClient, prefix string) (*Registry, error) {
	if strings.ContainsAny(prefix, "{}") {
		return nil, fmt.Errorf("directory: key prefix %q must not contain braces", prefix)
	}
	return &Registry{rdb: rdb, prefix: prefix}, nil
}

func (r *Registry) namesKey() string        { return r.prefix + "{auth}:dir-names" }
func (r *Registry) key(id string) string    { return tokenstore.DirectoryKey(r.prefix, id) }
func lname(name string) string              { return strings.ToLower(name) }
func flag(b bool) string                    { return map[bool]string{true: "1", false: "0"}[b] }
func isDefaultName(name string) bool        { return lname(name) == DefaultID }
func (r *Registry) keys(id string) []string { return []string{r.namesKey(), r.key(id)} }

// createScript: KEYS[1] dir-names, KEYS[2] dir:<id>. ARGV: lower name, id, data.
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 'id_taken' end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 'name_taken' end
redis.call('HSET', KEYS[2], 'data', ARGV[3], 'lname', ARGV[1])
return 'ok'
`)

// updateScript: compare-and-swap of a record. KEYS[1] dir-names, KEYS[2]
// dir:<id>. ARGV: old data ("" = no record, allowed only for the default
// directory), new data, old lower name, new lower name, id, deleting flag,
// "1" for the default directory.
var updateScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[2], 'data')
if not cur and ARGV[7] ~= '1' then return 'not_found' end
if (cur or '') ~= ARGV[1] then return 'conflict' end
if ARGV[3] ~= ARGV[4] then
  if redis.call('HSETNX', KEYS[1], ARGV[4], ARGV[5]) == 0 then return 'name_taken' end
  if redis.call('HGET', KEYS[1], ARGV[3]) == ARGV[5] then redis.call('HDEL', KEYS[1], ARGV[3]) end
end
redis.call('HSET', KEYS[2], 'data', ARGV[2], 'lname', ARGV[4])
if ARGV[6] == '1' then redis.call('HSET', KEYS[2], 'deleting', '1') else redis.call('HDEL', KEYS[2], 'deleting') end
return 'ok'
`)

// removeScript: KEYS[1] dir-names, KEYS[2] dir:<id>. ARGV: id.
var removeScript = redis.NewScript(`
local l = redis.call('HGET', KEYS[2], 'lname')
if not l then return 'not_found' end
if redis.call('HGET', KEYS[1], l) == ARGV[1] then redis.call('HDEL', KEYS[1], l) end
redis.call('DEL', KEYS[2])
return 'ok'
`)

// Create stores d, a new directory: its ID is generated, Backend defaults
// to BackendStored. The name must be free (case-insensitively; "default"
// is always taken): ErrAlreadyExists otherwise.
func (r *Registry) Create(ctx context.Context, d Directory) (Directory, error) {
	if err := ValidateName(d.Name); err != nil {
		return Directory{}, fmt.Errorf("directory name: %w", err)
	}
	if isDefaultName(d.Name) {
		return Directory{}, fmt.Errorf("directory name %q: %w", d.Name, ErrAlreadyExists)
	}
	d.ID = uuid.NewString()
	if d.Backend == "" {
		d.Backend = BackendStored
	}
	d.Deleting = false
	data, err := json.Marshal(d)
	if err != nil {
		return Directory{}, fmt.Errorf("encode directory: %w", err)
	}
	res, err := createScript.Run(ctx, r.rdb, r.keys(d.ID), lname(d.Name), d.ID, data).Text()
	if err != nil {
		return Directory{}, fmt.Errorf("create directory: %w", err)
	}
	if res != "ok" {
		return Directory{}, fmt.Errorf("directory name %q: %w", d.Name, ErrAlreadyExists)
	}
	return d, nil
}

// Get returns directory id. The default directory always exists.
func (r *Registry) Get(ctx context.Context, id string) (Directory, error) {
	d, _, err := r.get(ctx, id)
	return d, err
}

// get also returns the raw record ("" for the default directory without one).
func (r *Registry) get(ctx context.Context, id string) (Directory, string, error) {
	if !ValidID(id) {
		return Directory{}, "", fmt.Errorf("directory %q: %w", id, ErrNotFound)
	}
	data, err := r.rdb.HGet(ctx, r.key(id), "data").Result()
	if errors.Is(err, redis.Nil) {
		if id == DefaultID {
			return Default(), "", nil
		}
		return Directory{}, "", fmt.Errorf("directory %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Directory{}, "", fmt.Errorf("get directory: %w", err)
	}
	var d Directory
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return Directory{}, "", fmt.Errorf("decode directory %s: %w", id, err)
	}
	return d, data, nil
}

// Resolve returns the directory named by ref: an id or a name
// (case-insensitive).
func (r *Registry) Resolve(ctx context.Context, ref string) (Directory, error) {
	if ValidID(ref) {
		return r.Get(ctx, ref)
	}
	if isDefaultName(ref) {
		return r.Get(ctx, DefaultID)
	}
	id, err := r.rdb.HGet(ctx, r.namesKey(), lname(ref)).Result()
	if errors.Is(err, redis.Nil) {
		return Directory{}, fmt.Errorf("directory %q: %w", ref, ErrNotFound)
	}
	if err != nil {
		return Directory{}, fmt.Errorf("get directory by name: %w", err)
	}
	return r.Get(ctx, id)
}

// List returns every directory: the default one first, then by name.
func (r *Registry) List(ctx context.Context) ([]Directory, error) {
	ids, err := r.rdb.HVals(ctx, r.namesKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("list directories: %w", err)
	}
	def, err := r.Get(ctx, DefaultID)
	if err != nil {
		return nil, err
	}
	out := []Directory{def}
	for _, id := range ids {
		d, err := r.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // removed between the two reads
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	sort.SliceStable(out[1:], func(i, j int) bool { return lname(out[1+i].Name) < lname(out[1+j].Name) })
	return out, nil
}

// Update applies update to directory id's record and stores the result
// (compare-and-swap, retried on conflict: update may run more than once).
// The id cannot change; the default directory's name cannot either
// (ErrDefault); a new name must be free (ErrAlreadyExists).
func (r *Registry) Update(ctx context.Context, id string, update func(Directory) (Directory, error)) (Directory, error) {
	for range 20 {
		old, oldData, err := r.get(ctx, id)
		if err != nil {
			return Directory{}, err
		}
		d, err := update(old)
		if err != nil {
			return Directory{}, err
		}
		d.ID = old.ID
		if lname(d.Name) != lname(old.Name) {
			if id == DefaultID {
				return Directory{}, ErrDefault
			}
			if err := ValidateName(d.Name); err != nil {
				return Directory{}, fmt.Errorf("directory name: %w", err)
			}
			if isDefaultName(d.Name) {
				return Directory{}, fmt.Errorf("directory name %q: %w", d.Name, ErrAlreadyExists)
			}
		}
		data, err := json.Marshal(d)
		if err != nil {
			return Directory{}, fmt.Errorf("encode directory: %w", err)
		}
		res, err := updateScript.Run(ctx, r.rdb, r.keys(id), oldData, data, lname(old.Name), lname(d.Name), id,
			flag(d.Deleting), flag(id == DefaultID)).Text()
		if err != nil {
			return Directory{}, fmt.Errorf("update directory: %w", err)
		}
		switch res {
		case "ok":
			return d, nil
		case "not_found":
			return Directory{}, fmt.Errorf("directory %s: %w", id, ErrNotFound)
		case "name_taken":
			return Directory{}, fmt.Errorf("directory name %q: %w", d.Name, ErrAlreadyExists)
		}
	}
	return Directory{}, fmt.Errorf("update directory %s: concurrent modification", id)
}

// Remove deletes directory id's record and name (the data is the
// caller's: see Purge). The default directory cannot be removed.
func (r *Registry) Remove(ctx context.Context, id string) error {
	if id == DefaultID {
		return ErrDefault
	}
	if !ValidID(id) {
		return fmt.Errorf("directory %q: %w", id, ErrNotFound)
	}
	res, err := removeScript.Run(ctx, r.rdb, r.keys(id), id).Text()
	if err != nil {
		return fmt.Errorf("remove directory: %w", err)
	}
	if res == "not_found" {
		return fmt.Errorf("directory %s: %w", id, ErrNotFound)
	}
	return nil
}
