package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/redisfault"

	"github.com/scimgate/scimgate/sealbox"
)

// Signing algorithms scimgate can sign access tokens with.
const (
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
)

// rsaBits is the modulus size of generated RS256 keys.
const rsaBits = 3072

// SigningKey is one access-token signing key.
type SigningKey struct {
	ID        string
	Alg       jwa.SignatureAlgorithm
	CreatedAt time.Time
	// RetiredAt is when the key stopped signing (zero for the current key).
	RetiredAt time.Time
	// Private is the private key as a JWK (kid and alg set).
	Private jwk.Key
}

// Current reports whether the key is the signing key.
func (k SigningKey) Current() bool { return k.RetiredAt.IsZero() }

// keyRecord is a key as stored in Redis.
type keyRecord struct {
	ID        string          `json:"kid"`
	Alg       string          `json:"alg"`
	CreatedAt time.Time       `json:"created_at"`
	JWK       json.RawMessage `json:"jwk,omitempty"`
	// Sealed is the JWK encrypted with the key-encryption key (base64 of
	// nonce and AES-256-GCM ciphertext); JWK is then empty.
	Sealed string `json:"sealed,omitempty"`
}

// KeyStoreOptions configures a KeyStore.
type KeyStoreOptions struct {
	// Prefix starts every key; it must not contain braces.
	Prefix string
	// Alg is the algorithm of keys created from now on: ES256 or RS256.
	Alg string
	// Retention is how long a retired key stays published: the longest
	// access-token lifetime plus clock leeway.
	Retention time.Duration
	// EncryptionKey, when set (32 bytes), encrypts private keys at rest
	// with AES-256-GCM; keys stored before it was set still load, and
	// Check encrypts them.
	EncryptionKey []byte
}

// KeyStore keeps signing keys in Redis. Private keys are stored as JWK
// JSON, encrypted with KeyStoreOptions.EncryptionKey when one is set;
// without it whoever can read the Redis database can sign tokens.
type KeyStore struct {
	rdb  redis.UniversalClient
	base string
	opts KeyStoreOptions
	aead *sealbox.Box // nil: keys stored in plain text

	mu     sync.Mutex
	parsed map[string]SigningKey // kid -> parsed key (records never change)
}

// NewKeyStore returns a KeyStore on rdb.
func NewKeyStore(rdb redis.UniversalClient, o KeyStoreOptions) (*KeyStore, error) {
	if strings.ContainsAny(o.Prefix, "{}") {
		return nil, fmt.Errorf("oauth: key prefix %q must not contain braces", o.Prefix)
	}
	if o.Alg == "" {
		o.Alg = AlgES256
	}
	if o.Alg != AlgES256 && o.Alg != AlgRS256 {
		return nil, fmt.Errorf("oauth: signing algorithm %q is not ES256 or RS256", o.Alg)
	}
	if o.Retention <= 0 {
		return nil, errors.New("oauth: key retention must be positive")
	}
	aead, err := newSealer(o.EncryptionKey)
	if err != nil {
		return nil, err
	}
	return &KeyStore{rdb: rdb, base: o.Prefix + "{oauth}:", opts: o, aead: aead, parsed: map[string]SigningKey{}}, nil
}

func (s *KeyStore) keysKey() string    { return s.base + "keys" }
func (s *KeyStore) retiredKey() string { return s.base + "retired" }
func (s *KeyStore) currentKey() string { return s.base + "current" }

// getCurrentScript: KEYS[1] keys, KEYS[2] current. Returns {kid, record}
// or false when there is no usable current key.
var getCurrentScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[2])
if not cur then return false end
local rec = redis.call('HGET', KEYS[1], cur)
if not rec then return false end
return {cur, rec}
`)

// installFirstScript makes ARGV[1] (record ARGV[2]) the current key unless
// a usable one exists, which it returns instead: of concurrent first
// requests on any number of replicas exactly one key wins.
// KEYS[1] keys, KEYS[2] current.
var installFirstScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[2])
if cur then
  local rec = redis.call('HGET', KEYS[1], cur)
  if rec then return {cur, rec} end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
return {ARGV[1], ARGV[2]}
`)

// rotateScript adds a key, makes it current and retires the previous one.
// KEYS[1] keys, KEYS[2] current, KEYS[3] retired. ARGV: kid, record, now ms.
var rotateScript = redis.NewScript(`
local prev = redis.call('GET', KEYS[2])
if prev then redis.call('HSETNX', KEYS[3], prev, ARGV[3]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
return prev or ''
`)

// pruneScript deletes retired keys (ARGV) unless one became current.
// KEYS[1] keys, KEYS[2] current, KEYS[3] retired.
var pruneScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[2])
local n = 0
for _, kid in ipairs(ARGV) do
  if kid ~= cur then
    n = n + redis.call('HDEL', KEYS[1], kid)
    redis.call('HDEL', KEYS[3], kid)
  end
end
return n
`)

// Current returns the signing key, creating the first one atomically when
// there is none.
func (s *KeyStore) Current(ctx context.Context) (SigningKey, error) {
	res, err := getCurrentScript.Run(ctx, s.rdb, []string{s.keysKey(), s.currentKey()}).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return SigningKey{}, fmt.Errorf("read current signing key: %w", err)
	}
	if err == nil && len(res) == 2 {
		return s.decode(res[1], time.Time{})
	}
	rec, err := s.generate(time.Now())
	if err != nil {
		return SigningKey{}, err
	}
	res, err = installFirstScript.Run(ctx, s.rdb, []string{s.keysKey(), s.currentKey()}, rec.ID, mustJSON(rec)).StringSlice()
	if err != nil {
		return SigningKey{}, fmt.Errorf("install first signing key: %w", err)
	}
	if len(res) != 2 {
		return SigningKey{}, errors.New("install first signing key: unexpected script reply")
	}
	return s.decode(res[1], time.Time{})
}

// Rotate creates a new signing key, makes it current, retires the previous
// one (it stays published for the retention) and prunes keys whose
// retention has passed. It returns the new key.
func (s *KeyStore) Rotate(ctx context.Context, now time.Time) (SigningKey, error) {
	rec, err := s.generate(now)
	if err != nil {
		return SigningKey{}, err
	}
	data := mustJSON(rec)
	if err := rotateScript.Run(ctx, s.rdb, []string{s.keysKey(), s.currentKey(), s.retiredKey()},
		rec.ID, data, now.UnixMilli()).Err(); err != nil {
		return SigningKey{}, fmt.Errorf("rotate signing key: %w", err)
	}
	if _, err := s.Prune(ctx, now); err != nil {
		return SigningKey{}, err
	}
	return s.decode(data, time.Time{})
}

// List returns every stored key, current first, then newest first.
func (s *KeyStore) List(ctx context.Context) ([]SigningKey, error) {
	var recsCmd, retiredCmd *redis.MapStringStringCmd
	var curCmd *redis.StringCmd
	cmds, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		recsCmd = p.HGetAll(ctx, s.keysKey())
		retiredCmd = p.HGetAll(ctx, s.retiredKey())
		curCmd = p.Get(ctx, s.currentKey())
		return nil
	})
	err = redisfault.TxError(cmds, err)
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	recs, retired, cur := recsCmd.Val(), retiredCmd.Val(), curCmd.Val()
	out := make([]SigningKey, 0, len(recs))
	for kid, data := range recs {
		var ret time.Time
		if kid != cur {
			ret = time.UnixMilli(0)
			if ms, err := strconv.ParseInt(retired[kid], 10, 64); err == nil {
				ret = time.UnixMilli(ms).UTC()
			}
		}
		k, err := s.decode(data, ret)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Current() != out[j].Current() {
			return out[i].Current()
		}
		return out[i].CreatedAt.After(out[j].CreatedAt)
	})
	return out, nil
}

// Published returns the keys to publish and verify with at now: the
// current key and every retired key whose retention has not passed.
func (s *KeyStore) Published(ctx context.Context, now time.Time) ([]SigningKey, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, k := range all {
		if k.Current() || now.Before(k.RetiredAt.Add(s.opts.Retention)) {
			out = append(out, k)
		}
	}
	return out, nil
}

// Prune deletes retired keys whose retention has passed at now and
// returns how many it deleted.
func (s *KeyStore) Prune(ctx context.Context, now time.Time) (int, error) {
	all, err := s.List(ctx)
	if err != nil {
		return 0, err
	}
	var gone []any
	for _, k := range all {
		if !k.Current() && !now.Before(k.RetiredAt.Add(s.opts.Retention)) {
			gone = append(gone, k.ID)
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	n, err := pruneScript.Run(ctx, s.rdb, []string{s.keysKey(), s.currentKey(), s.retiredKey()}, gone...).Int()
	if err != nil {
		return 0, fmt.Errorf("prune signing keys: %w", err)
	}
	return n, nil
}

// generate makes a new key record of the configured algorithm; its kid is
// the RFC 7638 thumbprint of the public key.
func (s *KeyStore) generate(now time.Time) (keyRecord, error) {
	var raw any
	var err error
	switch s.opts.Alg {
	case AlgRS256:
		raw, err = rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		raw, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return keyRecord{}, fmt.Errorf("generate %s key: %w", s.opts.Alg, err)
	}
	k, err := jwk.FromRaw(raw)
	if err != nil {
		return keyRecord{}, fmt.Errorf("wrap signing key: %w", err)
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return keyRecord{}, fmt.Errorf("key thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: jwa.SignatureAlgorithm(s.opts.Alg), jwk.KeyUsageKey: "sig"} {
		if err := k.Set(name, v); err != nil {
			return keyRecord{}, fmt.Errorf("set %s: %w", name, err)
		}
	}
	data, err := json.Marshal(k)
	if err != nil {
		return keyRecord{}, fmt.Errorf("encode signing key: %w", err)
	}
	return s.seal(keyRecord{ID: kid, Alg: s.opts.Alg, CreatedAt: now.UTC(), JWK: data}), nil
}

// decode parses a stored record, reusing earlier parses (records of a kid
// never change).
func (s *KeyStore) decode(data string, retired time.Time) (SigningKey, error) {
	var rec keyRecord
	if err := json.Unmarshal([]byte(data), &rec); err != nil {
		return SigningKey{}, fmt.Errorf("decode signing key record: %w", err)
	}
	s.mu.Lock()
	k, ok := s.parsed[rec.ID]
	s.mu.Unlock()
	if !ok {
		plain, err := s.open(rec)
		if err != nil {
			return SigningKey{}, err
		}
		priv, err := jwk.ParseKey(plain)
		if err != nil {
			return SigningKey{}, fmt.Errorf("parse signing key %s: %w", rec.ID, err)
		}
		if rec.Alg != AlgES256 && rec.Alg != AlgRS256 {
			return SigningKey{}, fmt.Errorf("signing key %s has unsupported alg %q", rec.ID, rec.Alg)
		}
		k = SigningKey{ID: rec.ID, Alg: jwa.SignatureAlgorithm(rec.Alg), CreatedAt: rec.CreatedAt, Private: priv}
		s.mu.Lock()
		s.parsed[rec.ID] = k
		s.mu.Unlock()
	}
	k.RetiredAt = retired
	return k, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("oauth: encode %T: %v", v, err)) // only for unencodable types: a programming error
	}
	return string(b)
}
