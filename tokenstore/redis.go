package tokenstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// DefaultTouchInterval is how often, at most, a token's last use is written.
const DefaultTouchInterval = time.Minute

// Options configures a Redis store.
type Options struct {
	// Prefix starts every key (e.g. "scimgate:"); it must not contain '{'
	// or '}', which would move the {auth} hash tag.
	Prefix string
	// TouchInterval is the least time between two last-use writes of one
	// token; zero means DefaultTouchInterval.
	TouchInterval time.Duration
	// RevocationMargin is how long a revoked-jti record outlives the last
	// instant a verifier accepts the token (see RevokeAccessToken), to
	// cover clock differences between replicas; zero means
	// DefaultRevocationMargin.
	RevocationMargin time.Duration
}

// DefaultRevocationMargin is the default Options.RevocationMargin.
const DefaultRevocationMargin = time.Minute

// Redis is the Store on Redis.
type Redis struct {
	rdb          redis.UniversalClient
	base         string // "<prefix>{auth}:"
	touch        time.Duration
	revokeMargin time.Duration
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Store keeping its data in rdb under o.Prefix.
func NewRedis(rdb redis.UniversalClient, o Options) (*Redis, error) {
	if strings.ContainsAny(o.Prefix, "{}") {
		return nil, fmt.Errorf("tokenstore: key prefix %q must not contain braces", o.Prefix)
	}
	if o.TouchInterval <= 0 {
		o.TouchInterval = DefaultTouchInterval
	}
	if o.RevocationMargin <= 0 {
		o.RevocationMargin = DefaultRevocationMargin
	}
	return &Redis{rdb: rdb, base: o.Prefix + "{auth}:", touch: o.TouchInterval, revokeMargin: o.RevocationMargin}, nil
}

func (r *Redis) namesKey() string                 { return r.base + "client-names" }
func (r *Redis) clientKey(id string) string       { return r.base + "client:" + id }
func (r *Redis) clientTokensKey(id string) string { return r.base + "client:" + id + ":tokens" }
func (r *Redis) tokenKey(hash string) string      { return r.base + "token:" + hash }
func (r *Redis) tokenIDKey(id string) string      { return r.base + "token-id:" + id }

// validClientID reports whether id is a client id as scimgate generates
// them (uuid.NewString: canonical lowercase 36-character form). Every
// lookup by a caller-supplied id checks this first and answers ErrNotFound
// without touching Redis: ids are embedded in key names, so an id such as
// "<uuid>:tokens" would otherwise name another key of the wrong type.
func validClientID(id string) bool {
	if len(id) != 36 {
		return false
	}
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

// nameKey is the uniqueness key of a client name.
func nameKey(name string) string { return strings.ToLower(name) }

func boolFlag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// CreateClient implements Store.
func (r *Redis) CreateClient(ctx context.Context, c Client) error {
	if c.ID == "" || c.Name == "" {
		return errors.New("tokenstore: client id and name are required")
	}
	if !validClientID(c.ID) {
		return fmt.Errorf("tokenstore: client id %q is not a canonical UUID", c.ID)
	}
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode client: %w", err)
	}
	res, err := createClientScript.Run(ctx, r.rdb, []string{r.namesKey(), r.clientKey(c.ID)},
		r.base, nameKey(c.Name), c.ID, data, boolFlag(c.Enabled), idpField(c), idpIssuer(c), c.DirectoryID).Text()
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	switch res {
	case "ok":
		return nil
	case "name_taken":
		return fmt.Errorf("client name %q: %w", c.Name, ErrAlreadyExists)
	case "subject_taken":
		return fmt.Errorf("issuer %q subject %q: %w", c.Issuer, c.Subject, ErrSubjectTaken)
	case "no_directory":
		return fmt.Errorf("directory %s: %w", c.DirectoryID, ErrNoDirectory)
	default:
		return fmt.Errorf("client id %s: %w", c.ID, ErrAlreadyExists)
	}
}

// GetClient implements Store.
func (r *Redis) GetClient(ctx context.Context, id string) (Client, error) {
	c, _, err := r.getClient(ctx, id)
	return c, err
}

// getClient also returns the raw record, for compare-and-swap.
func (r *Redis) getClient(ctx context.Context, id string) (Client, string, error) {
	if !validClientID(id) {
		return Client{}, "", ErrNotFound
	}
	data, err := r.rdb.HGet(ctx, r.clientKey(id), "data").Result()
	if errors.Is(err, redis.Nil) {
		return Client{}, "", fmt.Errorf("client %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Client{}, "", fmt.Errorf("get client: %w", err)
	}
	var c Client
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return Client{}, "", fmt.Errorf("decode client %s: %w", id, err)
	}
	return c, data, nil
}

// GetClientByName implements Store.
func (r *Redis) GetClientByName(ctx context.Context, name string) (Client, error) {
	id, err := r.rdb.HGet(ctx, r.namesKey(), nameKey(name)).Result()
	if errors.Is(err, redis.Nil) {
		return Client{}, fmt.Errorf("client named %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Client{}, fmt.Errorf("get client by name: %w", err)
	}
	return r.GetClient(ctx, id)
}

// ListClients implements Store.
func (r *Redis) ListClients(ctx context.Context) ([]Client, error) {
	ids, err := r.rdb.HVals(ctx, r.namesKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	cmds := make([]*redis.StringCmd, len(ids))
	_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGet(ctx, r.clientKey(id), "data")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	out := make([]Client, 0, len(ids))
	for _, cmd := range cmds {
		data, err := cmd.Result()
		if errors.Is(err, redis.Nil) {
			continue // deleted between the two reads
		}
		var c Client
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return nil, fmt.Errorf("decode client: %w", err)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return nameKey(out[i].Name) < nameKey(out[j].Name) })
	return out, nil
}

// UpdateClient implements Store.
func (r *Redis) UpdateClient(ctx context.Context, id string, update func(Client) (Client, error)) (Client, error) {
	for attempt := 0; attempt < 20; attempt++ {
		old, oldData, err := r.getClient(ctx, id)
		if err != nil {
			return Client{}, err
		}
		c, err := update(old)
		if err != nil {
			return Client{}, err
		}
		c.ID = old.ID
		c.DirectoryID = old.DirectoryID // a client never changes directory
		if c.Name == "" {
			return Client{}, errors.New("tokenstore: client name is required")
		}
		data, err := json.Marshal(c)
		if err != nil {
			return Client{}, fmt.Errorf("encode client: %w", err)
		}
		res, err := updateClientScript.Run(ctx, r.rdb, []string{r.namesKey(), r.clientKey(id)},
			r.base, oldData, data, boolFlag(c.Enabled), nameKey(old.Name), nameKey(c.Name), id,
			idpField(old), idpField(c), idpIssuer(old), idpIssuer(c)).Text()
		if err != nil {
			return Client{}, fmt.Errorf("update client: %w", err)
		}
		switch res {
		case "ok":
			return c, nil
		case "not_found":
			return Client{}, fmt.Errorf("client %s: %w", id, ErrNotFound)
		case "name_taken":
			return Client{}, fmt.Errorf("client name %q: %w", c.Name, ErrAlreadyExists)
		case "subject_taken":
			return Client{}, fmt.Errorf("issuer %q subject %q: %w", c.Issuer, c.Subject, ErrSubjectTaken)
		}
		// "conflict": someone else changed the record; read it again.
	}
	return Client{}, fmt.Errorf("update client %s: %w", id, errConcurrentModified)
}

// DeleteClient implements Store.
func (r *Redis) DeleteClient(ctx context.Context, id string) error {
	if !validClientID(id) {
		return ErrNotFound
	}
	res, err := deleteClientScript.Run(ctx, r.rdb,
		[]string{r.namesKey(), r.clientKey(id), r.clientTokensKey(id)}, r.base, id).Text()
	if err != nil {
		return fmt.Errorf("delete client: %w", err)
	}
	if res == "not_found" {
		return fmt.Errorf("client %s: %w", id, ErrNotFound)
	}
	return nil
}
