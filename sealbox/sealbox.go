// Package sealbox encrypts small secrets that scimgate must store and
// later use (signing keys, upstream credentials) with the configured
// key-encryption key (oauth.key_encryption_key): AES-256-GCM, a random
// nonce first, and additional data binding each sealed value to its use.
package sealbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// KeySize is the size of a key-encryption key: an AES-256 key.
const KeySize = 32

// Errors of Open.
var (
	// ErrMalformed means the sealed value is not one Seal produced.
	ErrMalformed = errors.New("sealbox: malformed sealed value")
	// ErrOpen means the value does not open with this key and additional
	// data (wrong key, or moved to another use).
	ErrOpen = errors.New("sealbox: sealed value does not open with this key")
)

// Box seals and opens values with one key-encryption key.
type Box struct{ aead cipher.AEAD }

// New returns the Box of kek; a nil kek gives a nil Box (no encryption).
func New(kek []byte) (*Box, error) {
	if kek == nil {
		return nil, nil
	}
	if len(kek) != KeySize {
		return nil, fmt.Errorf("key-encryption key is %d bytes, want %d", len(kek), KeySize)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain bound to ad, in standard base64.
func (b *Box) Seal(plain, ad []byte) string {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	return base64.StdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, plain, ad))
}

// Open decrypts what Seal returned for the same ad.
func (b *Box) Open(sealed string, ad []byte) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	ns := b.aead.NonceSize()
	if err != nil || len(raw) < ns {
		return nil, ErrMalformed
	}
	plain, err := b.aead.Open(nil, raw[:ns], raw[ns:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
