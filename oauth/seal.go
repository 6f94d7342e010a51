package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/sealbox"
)

// KeyEncryptionKeySize is the size of oauth.key_encryption_key: an
// AES-256 key.
const KeyEncryptionKeySize = sealbox.KeySize

// ErrKeyDecrypt means a stored signing key could not be opened with the
// configured key-encryption key (wrong key, or none configured).
var ErrKeyDecrypt = errors.New("signing key cannot be decrypted")

// newSealer returns the Box for a key-encryption key; nil key, nil Box.
func newSealer(kek []byte) (*sealbox.Box, error) {
	b, err := sealbox.New(kek)
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	return b, nil
}

// seal replaces rec's plain JWK with its AES-256-GCM encryption (kid as
// additional data so a sealed key cannot be moved to another kid).
func (s *KeyStore) seal(rec keyRecord) keyRecord {
	if s.aead == nil || rec.JWK == nil {
		return rec
	}
	rec.Sealed = s.aead.Seal(rec.JWK, []byte(rec.ID))
	rec.JWK = nil
	return rec
}

// open returns the plain JWK of rec.
func (s *KeyStore) open(rec keyRecord) (json.RawMessage, error) {
	if rec.Sealed == "" {
		return rec.JWK, nil
	}
	if s.aead == nil {
		return nil, fmt.Errorf("%w: key %s is encrypted and no oauth.key_encryption_key is configured", ErrKeyDecrypt, rec.ID)
	}
	plain, err := s.aead.Open(rec.Sealed, []byte(rec.ID))
	switch {
	case errors.Is(err, sealbox.ErrMalformed):
		return nil, fmt.Errorf("%w: key %s: malformed sealed record", ErrKeyDecrypt, rec.ID)
	case err != nil:
		return nil, fmt.Errorf("%w: key %s does not open with oauth.key_encryption_key (wrong key?)", ErrKeyDecrypt, rec.ID)
	}
	return plain, nil
}

// replaceIfScript sets field ARGV[1] of hash KEYS[1] to ARGV[3] only if it
// still holds ARGV[2].
var replaceIfScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
`)

// Check opens every stored key, so a wrong or missing key-encryption key
// fails start-up instead of the first token request, and, when a
// key-encryption key is configured, encrypts keys stored in plain text
// (from before it was set). It returns how many it encrypted.
func (s *KeyStore) Check(ctx context.Context) (int, error) {
	recs, err := s.rdb.HGetAll(ctx, s.keysKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("read signing keys: %w", err)
	}
	sealed := 0
	for kid, data := range recs {
		var rec keyRecord
		if err := json.Unmarshal([]byte(data), &rec); err != nil {
			return sealed, fmt.Errorf("decode signing key record %s: %w", kid, err)
		}
		if _, err := s.open(rec); err != nil {
			return sealed, err
		}
		if s.aead == nil || rec.Sealed != "" {
			continue
		}
		n, err := replaceIfScript.Run(ctx, s.rdb, []string{s.keysKey()}, kid, data, mustJSON(s.seal(rec))).Int()
		if err != nil {
			return sealed, fmt.Errorf("encrypt signing key %s: %w", kid, err)
		}
		sealed += n
	}
	return sealed, nil
}
