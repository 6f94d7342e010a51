package oauth

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/scimgate/scimgate/auth"
)

// DefaultRefreshCooldown is the least time between two reloads of the key
// set caused by unknown kids.
const DefaultRefreshCooldown = 250 * time.Millisecond

// MaxKeySetAge is how long the in-memory key set is used before it is
// reloaded from Redis: a key that is no longer published (retention over,
// pruned, or removed after a compromise) stops verifying within this time
// on every replica, not only when some token names an unknown kid.
const MaxKeySetAge = 30 * time.Second

// PublicKeys is the per-process verification key set: auth.KeySource for
// auth.ClientCredentials. Known kids are answered from memory (a kid's key
// never changes) for at most MaxKeySetAge, then the set is reloaded; an
// unknown kid reloads the published keys from Redis, at most once per
// cooldown, so tokens with made-up kids cannot turn into one Redis request
// each.
type PublicKeys struct {
	store    *KeyStore
	cooldown time.Duration
	now      func() time.Time

	mu   sync.RWMutex
	keys map[string]verificationKey

	reload   sync.Mutex // one reload at a time
	loadedAt time.Time  // written under reload and mu
}

type verificationKey struct {
	alg jwa.SignatureAlgorithm
	key jwk.Key
}

var _ auth.KeySource = (*PublicKeys)(nil)

// NewPublicKeys returns the verification key set over store; cooldown 0
// means DefaultRefreshCooldown.
func NewPublicKeys(store *KeyStore, cooldown time.Duration, now func() time.Time) *PublicKeys {
	if cooldown <= 0 {
		cooldown = DefaultRefreshCooldown
	}
	return &PublicKeys{store: store, cooldown: cooldown, now: now, keys: map[string]verificationKey{}}
}

// VerificationKey implements auth.KeySource.
func (p *PublicKeys) VerificationKey(ctx context.Context, kid string) (jwa.SignatureAlgorithm, jwk.Key, error) {
	if k, ok := p.lookup(kid); ok && !p.stale(p.now()) {
		return k.alg, k.key, nil
	}
	p.reload.Lock()
	defer p.reload.Unlock()
	now := p.now()
	if p.loadedAt.IsZero() || now.Sub(p.loadedAt) >= MaxKeySetAge {
		// Too old: reload (and fail closed if the keys cannot be read).
		if err := p.load(ctx, now); err != nil {
			return "", nil, err
		}
	}
	if k, ok := p.lookup(kid); ok { // loaded while we waited, or just now
		return k.alg, k.key, nil
	}
	if !p.loadedAt.IsZero() && now.Sub(p.loadedAt) < p.cooldown {
		return "", nil, auth.ErrUnknownKey
	}
	if err := p.load(ctx, now); err != nil {
		return "", nil, err
	}
	if k, ok := p.lookup(kid); ok {
		return k.alg, k.key, nil
	}
	return "", nil, auth.ErrUnknownKey
}

// stale reports whether the key set was loaded MaxKeySetAge or longer ago.
func (p *PublicKeys) stale(now time.Time) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.loadedAt.IsZero() || now.Sub(p.loadedAt) >= MaxKeySetAge
}

func (p *PublicKeys) lookup(kid string) (verificationKey, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	k, ok := p.keys[kid]
	return k, ok
}

// load replaces the key set with the keys published at now.
func (p *PublicKeys) load(ctx context.Context, now time.Time) error {
	ks, err := p.store.Published(ctx, now)
	if err != nil {
		return fmt.Errorf("load verification keys: %w", err)
	}
	m := make(map[string]verificationKey, len(ks))
	for _, k := range ks {
		pub, err := k.Private.PublicKey()
		if err != nil {
			return fmt.Errorf("public key of %s: %w", k.ID, err)
		}
		m[k.ID] = verificationKey{alg: k.Alg, key: pub}
	}
	p.mu.Lock()
	p.keys = m
	p.loadedAt = now
	p.mu.Unlock()
	return nil
}

// JWKS returns the public key set published at now (RFC 7517), for
// /.well-known/jwks.json.
func (s *KeyStore) JWKS(ctx context.Context, now time.Time) (jwk.Set, error) {
	ks, err := s.Published(ctx, now)
	if err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	for _, k := range ks {
		pub, err := k.Private.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("public key of %s: %w", k.ID, err)
		}
		if err := set.AddKey(pub); err != nil {
			return nil, fmt.Errorf("add key %s: %w", k.ID, err)
		}
	}
	return set, nil
}
