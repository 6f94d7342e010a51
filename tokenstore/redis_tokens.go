package tokenstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// CreateToken implements Store.
func (r *Redis) CreateToken(ctx context.Context, t Token, hash string) error {
	if t.ID == "" || t.ClientID == "" || hash == "" {
		return errors.New("tokenstore: token id, client id and hash are required")
	}
	if !validClientID(t.ClientID) {
		return fmt.Errorf("client %s: %w", t.ClientID, ErrNotFound)
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode token: %w", err)
	}
	keys := []string{r.clientKey(t.ClientID), r.clientTokensKey(t.ClientID), r.tokenKey(hash), r.tokenIDKey(t.ID)}
	res, err := createTokenScript.Run(ctx, r.rdb, keys,
		r.base, t.ID, hash, data, t.ClientID, t.ExpiresAt.UnixMilli(), packAllowList(t.AllowIPs)).Text()
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	switch res {
	case "ok":
		return nil
	case "not_found":
		return fmt.Errorf("client %s: %w", t.ClientID, ErrNotFound)
	default:
		return fmt.Errorf("token %s: %w", t.ID, ErrAlreadyExists)
	}
}

// tokenFields are the hash fields a full token read fetches.
var tokenFields = []string{"data", "revoked", "used_at", "used_ip"}

// decodeToken builds a Token from the values of tokenFields.
func decodeToken(vals []any) (Token, error) {
	var t Token
	data, _ := vals[0].(string)
	if err := json.Unmarshal([]byte(data), &t); err != nil {
		return Token{}, fmt.Errorf("decode token: %w", err)
	}
	if s, ok := vals[1].(string); ok {
		t.RevokedAt = msTime(s)
	}
	if s, ok := vals[2].(string); ok {
		t.LastUsedAt = msTime(s)
	}
	if s, ok := vals[3].(string); ok {
		t.LastUsedIP = s
	}
	return t, nil
}

func msTime(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// GetToken implements Store.
func (r *Redis) GetToken(ctx context.Context, id string) (Token, error) {
	if id == "" {
		return Token{}, ErrNotFound
	}
	hash, err := r.rdb.Get(ctx, r.tokenIDKey(id)).Result()
	if errors.Is(err, redis.Nil) {
		return Token{}, fmt.Errorf("token %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Token{}, fmt.Errorf("get token: %w", err)
	}
	vals, err := r.rdb.HMGet(ctx, r.tokenKey(hash), tokenFields...).Result()
	if err != nil {
		return Token{}, fmt.Errorf("get token: %w", err)
	}
	if vals[0] == nil {
		return Token{}, fmt.Errorf("token %s: %w", id, ErrNotFound)
	}
	return decodeToken(vals)
}

// ListTokens implements Store.
func (r *Redis) ListTokens(ctx context.Context, clientID string) ([]Token, error) {
	var clientIDs []string
	if clientID != "" {
		if !validClientID(clientID) {
			return nil, fmt.Errorf("client %s: %w", clientID, ErrNotFound)
		}
		n, err := r.rdb.Exists(ctx, r.clientKey(clientID)).Result()
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		if n == 0 {
			return nil, fmt.Errorf("client %s: %w", clientID, ErrNotFound)
		}
		clientIDs = []string{clientID}
	} else {
		ids, err := r.rdb.HVals(ctx, r.namesKey()).Result()
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		clientIDs = ids
	}
	var tokenIDs []string
	for _, cid := range clientIDs {
		ids, err := r.rdb.SMembers(ctx, r.clientTokensKey(cid)).Result()
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		tokenIDs = append(tokenIDs, ids...)
	}
	out := make([]Token, 0, len(tokenIDs))
	for _, id := range tokenIDs {
		t, err := r.GetToken(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// RevokeToken implements Store.
func (r *Redis) RevokeToken(ctx context.Context, id string, at time.Time) (Token, error) {
	if id == "" {
		return Token{}, ErrNotFound
	}
	res, err := revokeTokenScript.Run(ctx, r.rdb, []string{r.tokenIDKey(id)}, r.base, at.UnixMilli()).Slice()
	if errors.Is(err, redis.Nil) {
		return Token{}, fmt.Errorf("token %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Token{}, fmt.Errorf("revoke token: %w", err)
	}
	return decodeToken(res)
}

// LookupToken implements Store.
func (r *Redis) LookupToken(ctx context.Context, hash string, ip netip.Addr, now time.Time) (Token, Client, error) {
	var ip16, ipText string
	if ip.IsValid() {
		b := ip.Unmap().As16()
		ip16, ipText = string(b[:]), ip.Unmap().String()
	}
	res, err := lookupTokenScript.Run(ctx, r.rdb, []string{r.tokenKey(hash)},
		r.base, now.UnixMilli(), ip16, ipText, r.touch.Milliseconds()).StringSlice()
	if err != nil {
		return Token{}, Client{}, fmt.Errorf("look up token: %w", err)
	}
	if len(res) == 0 || res[0] == "unknown" {
		return Token{}, Client{}, ErrNotFound
	}
	if len(res) != 3 {
		return Token{}, Client{}, fmt.Errorf("look up token: unexpected script reply of %d values", len(res))
	}
	var t Token
	var c Client
	if err := json.Unmarshal([]byte(res[1]), &t); err != nil {
		return Token{}, Client{}, fmt.Errorf("decode token: %w", err)
	}
	if err := json.Unmarshal([]byte(res[2]), &c); err != nil {
		return Token{}, Client{}, fmt.Errorf("decode client: %w", err)
	}
	switch res[0] {
	case "ok":
		return t, c, nil
	case "revoked":
		return t, c, ErrTokenRevoked
	case "expired":
		return t, c, ErrTokenExpired
	case "disabled":
		return t, c, ErrClientDisabled
	case "address":
		return t, c, ErrAddressNotAllowed
	}
	return Token{}, Client{}, fmt.Errorf("look up token: unexpected script code %q", res[0])
}

// packAllowList encodes prefixes as 17-byte entries (16-byte IPv4-mapped
// network address, prefix length) for the lookup script.
func packAllowList(ps []netip.Prefix) string {
	b := make([]byte, 0, 17*len(ps))
	for _, p := range ps {
		p = p.Masked()
		bits := p.Bits()
		if p.Addr().Is4() {
			bits += 96
		}
		a := p.Addr().As16()
		b = append(b, a[:]...)
		b = append(b, byte(bits))
	}
	return string(b)
}
